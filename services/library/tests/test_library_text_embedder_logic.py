"""The text_embedder Triton model's logic (models/text_embedder/1/embed_logic.py) outside Triton."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from rushes_triton_backend import flatten_parameters

LOGIC = Path(__file__).resolve().parents[3] / "models" / "text_embedder" / "1" / "embed_logic.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("text_embedder_logic", LOGIC)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


logic = _load()


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    return logic.Embedder(logic.EmbedderSettings(max_texts=4, max_chars=100))


def test_vectors_are_unit_length_and_related_texts_are_closer(engine) -> None:  # type: ignore[no-untyped-def]
    texts = engine.parse(
        np.array([b"boats in the harbour at dusk", b"ships in the port at sunset", b"budget meeting"])
    )
    vectors = engine.embed(texts)
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.1
    assert engine.model_name.startswith("wordllama-l2_supercat-256@")


def test_a_text_without_known_tokens_is_a_zero_vector(engine) -> None:  # type: ignore[no-untyped-def]
    vectors = engine.embed(["", "boats"])
    assert not vectors[0].any() and np.linalg.norm(vectors[1]) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("texts", "fragment"),
    [
        (None, "TEXT is required"),
        (np.array([], dtype=object), "TEXT is empty"),
        (np.array([b"a"] * 5, dtype=object), "at most 4"),
        (np.array([b"ok", b"\xff\xfe"], dtype=object), "TEXT[1] is not UTF-8"),
        (np.array([b"x" * 101], dtype=object), "TEXT[0] has 101 characters"),
    ],
)
def test_bad_requests_name_the_input(engine, texts, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(logic.InvalidRequest, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        engine.parse(texts)


def test_settings_come_from_parameters_then_environment() -> None:
    parameters = flatten_parameters({"dim": {"string_value": "256"}, "max_texts": {"string_value": "8"}})
    settings = logic.resolve_settings(parameters, {"RUSHES_TEXT_EMBEDDER_MAX_TEXTS": "16"})
    assert (settings.dim, settings.max_texts, settings.max_chars) == (256, 16, 20000)
    with pytest.raises(ValueError, match="not a number"):
        logic.resolve_settings({"dim": "wide"}, {})
    with pytest.raises(ValueError, match="must be positive"):
        logic.resolve_settings({"max_chars": "0"}, {})
