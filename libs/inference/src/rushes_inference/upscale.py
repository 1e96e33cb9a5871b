"""Super-resolution through the Triton `upscaler` model (models/upscaler: Real-ESRGAN weights)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rushes_inference.client import TritonClient
from rushes_inference.errors import InferenceError

UPSCALER_MODEL = "upscaler"


@dataclass(frozen=True)
class Upscaled:
    image_rgb: np.ndarray  # uint8 [h * scale, w * scale, 3]
    model: str
    model_version: str


async def upscale_image(
    client: TritonClient,
    image_rgb: np.ndarray,
    *,
    model: str = UPSCALER_MODEL,
    timeout_s: float | None = None,
) -> Upscaled:
    """One RGB uint8 frame [H, W, 3] through the model. Raises ModelUnavailable or InferenceError."""
    outputs = await client.infer(
        model, {"IMAGE": np.ascontiguousarray(image_rgb)}, ["IMAGE_OUT", "MODEL_VERSION"], timeout_s=timeout_s
    )
    out = outputs["IMAGE_OUT"]
    if out.dtype != np.uint8 or out.ndim != 3 or out.shape[2] != 3:
        raise InferenceError(
            f"model {model!r} returned {out.dtype} {list(out.shape)}, expected UINT8 [h, w, 3]", model=model
        )
    version = outputs["MODEL_VERSION"].reshape(-1)
    return Upscaled(out, model, bytes(version[0]).decode("utf-8") if version.size else "")
