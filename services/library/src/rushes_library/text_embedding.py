"""Text embeddings from the Triton `text_embedder` model (models/text_embedder).

The library never loads a model itself. Vectors travel to Postgres in pgvector's text form
("[0.1,0.2,...]" cast to vector), so no pgvector client package is needed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from rushes_inference import TEXT_EMBEDDER_MODEL, ModelUnavailable, TritonClient, embed_texts

EMBEDDING_DIM = 256  # search_shots.embedding is vector(256)


class Embeds(Protocol):
    """What search and the embedder need: texts in, one L2-normalised row per text out."""

    async def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class TritonTextEmbedder:
    """Calls Triton with a short deadline, and after a failure stops trying for `pause_s`: a search
    must not wait on a model that is down (it answers on keywords meanwhile)."""

    def __init__(
        self,
        client: TritonClient,
        *,
        model: str = TEXT_EMBEDDER_MODEL,
        timeout_s: float = 5.0,
        pause_s: float = 10.0,
    ) -> None:
        self._client = client
        self._model = model
        self._timeout_s = timeout_s
        self._pause_s = pause_s
        self._paused_until = 0.0

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Raises rushes_inference.ModelUnavailable (retry later) or InferenceError."""
        now = time.monotonic()
        if now < self._paused_until:
            raise ModelUnavailable(
                f"model {self._model!r} failed {self._pause_s:.0f}s ago; not retried yet", model=self._model
            )
        try:
            vectors = await embed_texts(self._client, texts, model=self._model, timeout_s=self._timeout_s)
        except ModelUnavailable:
            self._paused_until = time.monotonic() + self._pause_s
            raise
        if vectors.shape != (len(texts), EMBEDDING_DIM):
            raise ValueError(
                f"model {self._model!r} returned shape {vectors.shape}; expected ({len(texts)}, {EMBEDDING_DIM})"
            )
        return vectors


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form of one vector."""
    return "[" + ",".join(f"{x:.6g}" for x in np.asarray(vector, dtype=np.float32).reshape(-1)) + "]"
