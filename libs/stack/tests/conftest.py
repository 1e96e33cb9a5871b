"""Shared helpers for rushes_stack tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parents[2]


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A stack state folder under /tmp (as root, postgres runs as another user who must reach it).

    Whatever a test left running there is stopped before the folder is removed.
    """
    from rushes_stack import down

    path = Path(tempfile.mkdtemp(prefix="rushes-stack-test-"))
    try:
        yield path
    finally:
        down(path)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fake_service_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `python -m rushes_fake_health_service` importable by children of this process."""
    existing = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(TESTS_DIR), existing) if p))
