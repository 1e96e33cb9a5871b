"""Fixtures for rushes_inference tests: the repository's model logic imported by path."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from inference_media import REPO_ROOT

MODELS_DIR = REPO_ROOT / "models"


def load_model_module(model: str, module: str) -> ModuleType:
    """Import models/<model>/1/<module>.py the way model.py does, without Triton."""
    path = MODELS_DIR / model / "1" / f"{module}.py"
    name = f"rushes_model_{model}_{module}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, f"cannot import {path}"
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(loaded)
    return loaded


@pytest.fixture(scope="session")
def asr_logic() -> ModuleType:
    return load_model_module("whisper", "asr_logic")


@pytest.fixture(scope="session")
def face_logic() -> ModuleType:
    return load_model_module("face_detector", "face_logic")
