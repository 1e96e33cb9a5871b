"""rushes_stack.triton: the backend directory, the command line and the probes, without a server."""

from __future__ import annotations

import os
import socket
import sysconfig
from pathlib import Path

import pytest
from rushes_stack import triton


def test_backend_dir_holds_the_python_backend_and_is_idempotent(tmp_path: Path) -> None:
    backend_dir = triton.prepare_backend_dir(tmp_path)
    python_dir = backend_dir / "python"
    assert sorted(p.name for p in python_dir.iterdir()) == [
        "libtriton_python.so",
        "triton_python_backend_stub",
        "triton_python_backend_utils.py",
    ]
    stub = python_dir / "triton_python_backend_stub"
    assert os.access(stub, os.X_OK)
    wheel_stub = triton.tritonserver_root() / "python_backend_stubs" / "3.11" / "triton_python_backend_stub"
    assert stub.read_bytes() == wheel_stub.read_bytes()
    inode_before = stub.stat().st_ino
    assert triton.prepare_backend_dir(tmp_path) == backend_dir
    assert stub.stat().st_ino == inode_before  # unchanged files are not rewritten


def test_backend_dir_repairs_a_damaged_file(tmp_path: Path) -> None:
    stub = triton.prepare_backend_dir(tmp_path) / "python" / "triton_python_backend_stub"
    stub.write_bytes(b"truncated")
    triton.prepare_backend_dir(tmp_path)
    assert stub.stat().st_size > 1_000_000


def test_command_binds_loopback_cpu_only_with_the_right_libpython(tmp_path: Path) -> None:
    argv, env = triton.triton_command(tmp_path / "models", tmp_path / "backends", 8000, 8001, 8002)
    assert Path(argv[0]).name == "tritonserver" and Path(argv[0]).is_file()
    for flag in (
        "--http-address=127.0.0.1",
        "--grpc-address=127.0.0.1",
        "--metrics-address=127.0.0.1",
        "--http-port=8000",
        "--grpc-port=8001",
        "--metrics-port=8002",
        "--allow-gpu-metrics=false",
        "--pinned-memory-pool-byte-size=0",
        "--cuda-memory-pool-byte-size=0:0",
        "--exit-on-error=true",
        f"--model-repository={(tmp_path / 'models').resolve()}",
    ):
        assert flag in argv
    assert not any(arg.startswith("--model-control-mode") for arg in argv)
    venv_bin = env["PATH"].split(os.pathsep)[0]
    assert (Path(venv_bin) / "python3").exists() and Path(venv_bin).parent == Path(triton.sys.prefix)
    lib_path = env["LD_LIBRARY_PATH"].split(os.pathsep)
    assert lib_path[0] == sysconfig.get_config_var("LIBDIR")
    assert lib_path[1] == str(triton.site_packages_dir() / "nvidia_pytriton.libs")


def test_explicit_models_switch_to_explicit_model_control(tmp_path: Path) -> None:
    argv, _ = triton.triton_command(tmp_path, tmp_path, 1, 2, 3, models=["whisper", "face_detector"])
    assert "--model-control-mode=explicit" in argv
    assert argv[-2:] == ["--load-model=whisper", "--load-model=face_detector"]


def test_repository_models_lists_folders_with_a_config(tmp_path: Path) -> None:
    for name in ("b_model", "a_model", "half_written"):
        (tmp_path / name).mkdir()
    (tmp_path / "a_model" / "config.pbtxt").write_text("")
    (tmp_path / "b_model" / "config.pbtxt").write_text("")
    assert triton.repository_models(tmp_path) == ["a_model", "b_model"]
    with pytest.raises(FileNotFoundError, match="model repository not found"):
        triton.repository_models(tmp_path / "absent")


def test_the_repository_models_folder_serves_whisper_and_face_detector() -> None:
    repo = Path(__file__).resolve().parents[3] / "models"
    assert {"whisper", "face_detector"} <= set(triton.repository_models(repo))


def test_probes_are_false_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert triton.server_ready(url) is False
    assert triton.model_ready(url, "whisper") is False
    with pytest.raises(ValueError, match="must be http"):
        triton.server_ready("ftp://127.0.0.1:1")
