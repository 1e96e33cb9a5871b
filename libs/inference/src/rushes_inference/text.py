"""Text embeddings through the Triton `text_embedder` model (models/text_embedder: WordLlama)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rushes_inference.client import TritonClient
from rushes_inference.errors import InferenceError

TEXT_EMBEDDER_MODEL = "text_embedder"


async def embed_texts(
    client: TritonClient,
    texts: Sequence[str],
    *,
    model: str = TEXT_EMBEDDER_MODEL,
    timeout_s: float | None = None,
) -> np.ndarray:
    """One L2-normalised float32 row per text. Raises ModelUnavailable or InferenceError."""
    outputs = await client.infer(
        model, {"TEXT": np.array(list(texts), dtype=np.object_)}, ["EMBEDDING"], timeout_s=timeout_s
    )
    vectors = np.asarray(outputs["EMBEDDING"], dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise InferenceError(
            f"model {model!r} returned EMBEDDING of shape {list(vectors.shape)} for {len(texts)} texts",
            model=model,
        )
    return vectors
