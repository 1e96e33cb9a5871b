"""Start and stop rushes_stack components for fixtures, turning start failures into test failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from rushes_stack.components.base import Component, ComponentFailed

C = TypeVar("C", bound=Component)


def run_component(component: C, log_path: Path, *, timeout_s: float | None = None) -> Iterator[C]:
    """Generator body of a fixture: start `component`, yield it, always stop it afterwards."""
    try:
        component.start(log_path, timeout_s=timeout_s, die_with_parent=True)
    except ComponentFailed as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield component
    finally:
        component.stop()
