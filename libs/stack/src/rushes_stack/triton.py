"""How to run the tritonserver binary shipped in the nvidia-pytriton wheel, Python backend, CPU only.

The wheel lays its files out for PyTriton, not for a plain `tritonserver`, so three things must be
arranged by hand (see docs STACK.md):

* a backend directory whose `python/` holds `libtriton_python.so`, `triton_python_backend_utils.py`
  and the Python 3.11 stub renamed `triton_python_backend_stub` (the name the backend execs);
* the stub ignores PYTHONPATH and finds packages through the `python3` it sees first on PATH, so the
  venv's `bin/` must come first;
* the stub links `libpython3.11.so`; without LD_LIBRARY_PATH it may load the system's libpython
  (a different build, other site-packages), so the venv's base interpreter LIBDIR goes first, then the
  wheel's bundled libraries (`nvidia_pytriton.libs`).

Nothing here starts a process: the stack and the test fixtures own process lifetimes and call
`triton_command()` for the argv and environment, then poll `server_ready()` / `model_ready()`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import sysconfig
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

PYTHON_STUB_VERSION = "3.11"
BACKEND_DIR_NAME = "triton-backends"
READY_PROBE_TIMEOUT_S = 2.0


class TritonNotInstalled(RuntimeError):
    """The nvidia-pytriton wheel (which ships tritonserver) is not importable from this interpreter."""


def site_packages_dir() -> Path:
    """The site-packages that holds `pytriton/` (and, beside it, `nvidia_pytriton.libs/`)."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise TritonNotInstalled(
            "nvidia-pytriton is not installed in this Python environment "
            f"({sys.prefix}); it provides the tritonserver binary"
        )
    return Path(next(iter(spec.submodule_search_locations))).resolve().parent


def tritonserver_root() -> Path:
    """`site-packages/pytriton/tritonserver`: bin/, backends/, python_backend_stubs/."""
    return site_packages_dir() / "pytriton" / "tritonserver"


def tritonserver_binary() -> Path:
    binary = tritonserver_root() / "bin" / "tritonserver"
    if not binary.is_file():
        raise TritonNotInstalled(f"tritonserver binary missing at {binary}")
    return binary


def _backend_sources() -> dict[str, Path]:
    """Destination name inside `python/` -> file in the wheel."""
    root = tritonserver_root()
    return {
        "libtriton_python.so": root / "backends" / "python" / "libtriton_python.so",
        "triton_python_backend_utils.py": root / "backends" / "python" / "triton_python_backend_utils.py",
        "triton_python_backend_stub": (
            root / "python_backend_stubs" / PYTHON_STUB_VERSION / "triton_python_backend_stub"
        ),
    }


def _same_file_content(a: Path, b: Path) -> bool:
    if not b.is_file() or a.stat().st_size != b.stat().st_size:
        return False
    return hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def prepare_backend_dir(state_dir: Path) -> Path:
    """Build (idempotently) `<state_dir>/triton-backends/python/` and return `<state_dir>/triton-backends`.

    Files are copied, not symlinked, so the directory stays valid while the venv is rebuilt under a
    running server. Each file is written to a temporary name and renamed into place, so a second
    stack starting at the same time never sees half a file.
    """
    missing = [str(src) for src in _backend_sources().values() if not src.is_file()]
    if missing:
        raise TritonNotInstalled(f"nvidia-pytriton is missing Python backend files: {', '.join(missing)}")
    backend_dir = Path(state_dir) / BACKEND_DIR_NAME
    python_dir = backend_dir / "python"
    python_dir.mkdir(parents=True, exist_ok=True)
    for name, src in _backend_sources().items():
        dest = python_dir / name
        if not _same_file_content(src, dest):
            tmp = dest.with_name(f".{name}.{os.getpid()}.tmp")
            shutil.copyfile(src, tmp)
            tmp.replace(dest)
        if name == "triton_python_backend_stub" and not os.access(dest, os.X_OK):
            dest.chmod(0o755)
    return backend_dir


def triton_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The full environment for tritonserver: venv bin first on PATH, the right libpython first."""
    env = dict(os.environ if base is None else base)
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join([venv_bin, *[p for p in env.get("PATH", "").split(os.pathsep) if p]])
    libdir = sysconfig.get_config_var("LIBDIR")  # inside a venv: the base interpreter's LIBDIR
    bundled_libs = site_packages_dir() / "nvidia_pytriton.libs"
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        [str(libdir), str(bundled_libs), *[p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]]
    )
    # The stub inherits the environment: keep it from picking up a user site or a foreign PYTHONHOME.
    env.pop("PYTHONHOME", None)
    env["PYTHONNOUSERSITE"] = "1"
    return env


def triton_command(
    model_repo: Path,
    backend_dir: Path,
    http_port: int,
    grpc_port: int,
    metrics_port: int,
    *,
    models: Sequence[str] | None = None,
    log_verbose: int = 0,
    exit_timeout_s: int = 10,
    bind_address: str = "127.0.0.1",
) -> tuple[list[str], dict[str, str]]:
    """argv and environment that start tritonserver on loopback, CPU only.

    `models=None` loads every model in the repository at start (model control mode "none"): with
    `--exit-on-error=true` a model that fails to load stops the server, so a broken repository is
    noticed at start rather than at the first request. Pass `models` to load only those (explicit
    model control), e.g. when a model needs weights that are absent on this machine.

    `exit_timeout_s` bounds how long SIGTERM waits for in-flight work: with a crashed Python stub
    Triton otherwise waits its default 30 s before exiting. Callers should still escalate to SIGKILL.
    `bind_address` stays loopback locally; a container image binds 0.0.0.0 (docker/triton.Dockerfile).
    """
    argv = [
        str(tritonserver_binary()),
        f"--model-repository={Path(model_repo).resolve()}",
        f"--backend-directory={Path(backend_dir).resolve()}",
        f"--http-address={bind_address}",
        f"--grpc-address={bind_address}",
        f"--http-port={http_port}",
        f"--grpc-port={grpc_port}",
        f"--metrics-port={metrics_port}",
        f"--metrics-address={bind_address}",
        "--allow-gpu-metrics=false",
        "--pinned-memory-pool-byte-size=0",
        "--cuda-memory-pool-byte-size=0:0",
        "--exit-on-error=true",
        "--strict-readiness=true",
        f"--log-verbose={log_verbose}",
        f"--exit-timeout-secs={exit_timeout_s}",
    ]
    if models is not None:
        argv.append("--model-control-mode=explicit")
        argv.extend(f"--load-model={name}" for name in models)
    return argv, triton_environment()


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=READY_PROBE_TIMEOUT_S) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _base_url(http_url: str) -> str:
    url = http_url if "://" in http_url else f"http://{http_url}"
    if urllib.parse.urlparse(url).scheme not in ("http", "https"):
        raise ValueError(f"Triton HTTP URL must be http(s), got {http_url!r}")
    return url.rstrip("/")


def server_ready(http_url: str) -> bool:
    """`GET /v2/health/ready`: the server is up and (strict readiness) every loaded model is ready."""
    return _http_ok(f"{_base_url(http_url)}/v2/health/ready")


def model_ready(http_url: str, model: str) -> bool:
    """`GET /v2/models/<model>/ready`. Check each model: a crashed Python stub does not flip server health."""
    return _http_ok(f"{_base_url(http_url)}/v2/models/{urllib.parse.quote(model, safe='')}/ready")


def repository_models(model_repo: Path) -> list[str]:
    """Names of the models in a repository: sub-directories holding a `config.pbtxt`, sorted."""
    repo = Path(model_repo)
    if not repo.is_dir():
        raise FileNotFoundError(f"Triton model repository not found: {repo}")
    return sorted(p.name for p in repo.iterdir() if p.is_dir() and (p / "config.pbtxt").is_file())
