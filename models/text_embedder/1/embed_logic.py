"""The text embedder's logic, importable without Triton (tested outside the server).

WordLlama's bundled weights: the package looks for its tokenizer under `tokenizer/` while the wheel
ships it under `tokenizers/`, and it would try the network when it misses; loading with the package
folder as the cache directory and downloads disabled finds both files offline.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

INPUT_NAME = "TEXT"
OUTPUT_NAME = "EMBEDDING"
MODEL_OUTPUT_NAME = "MODEL"


class InvalidRequest(ValueError):
    """The request's fault: the message names the input and what was wrong."""


@dataclass(frozen=True)
class EmbedderSettings:
    config: str = "l2_supercat"
    dim: int = 256
    max_texts: int = 1024
    max_chars: int = 20000


def resolve_settings(parameters: Mapping[str, str], environ: Mapping[str, str]) -> EmbedderSettings:
    def pick(key: str, default: str) -> str:
        return environ.get(f"RUSHES_TEXT_EMBEDDER_{key.upper()}") or parameters.get(key) or default

    try:
        settings = EmbedderSettings(
            config=pick("config", "l2_supercat"),
            dim=int(pick("dim", "256")),
            max_texts=int(pick("max_texts", "1024")),
            max_chars=int(pick("max_chars", "20000")),
        )
    except ValueError as exc:
        raise ValueError(f"text_embedder: a numeric parameter is not a number: {exc}") from exc
    if settings.dim <= 0 or settings.max_texts <= 0 or settings.max_chars <= 0:
        raise ValueError("text_embedder: dim, max_texts and max_chars must be positive")
    return settings


class Embedder:
    def __init__(self, settings: EmbedderSettings) -> None:
        import wordllama
        from wordllama import WordLlama

        self.settings = settings
        package_dir = Path(wordllama.__file__).resolve().parent
        self.model = WordLlama.load(
            config=settings.config, dim=settings.dim, cache_dir=package_dir, disable_download=True
        )
        version = getattr(wordllama, "__version__", "") or _package_version("wordllama")
        self.model_name = f"wordllama-{settings.config}-{settings.dim}@{version}"

    def parse(self, texts: np.ndarray | None) -> list[str]:
        if texts is None:
            raise InvalidRequest(f"{INPUT_NAME} is required")
        flat = texts.reshape(-1)
        if flat.size == 0:
            raise InvalidRequest(f"{INPUT_NAME} is empty: send at least one text")
        if flat.size > self.settings.max_texts:
            raise InvalidRequest(f"{INPUT_NAME} has {flat.size} texts; at most {self.settings.max_texts}")
        decoded = []
        for position, item in enumerate(flat):
            try:
                text = item.decode("utf-8") if isinstance(item, bytes) else str(item)
            except UnicodeDecodeError as exc:
                raise InvalidRequest(f"{INPUT_NAME}[{position}] is not UTF-8: {exc}") from None
            if len(text) > self.settings.max_chars:
                raise InvalidRequest(
                    f"{INPUT_NAME}[{position}] has {len(text)} characters; at most {self.settings.max_chars}"
                )
            decoded.append(text)
        return decoded

    def embed(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, each row L2-normalised (zeros when the text has no known token)."""
        vectors = np.asarray(self.model.embed(texts, norm=False), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return os.environ.get("RUSHES_TEXT_EMBEDDER_VERSION", "unknown")
