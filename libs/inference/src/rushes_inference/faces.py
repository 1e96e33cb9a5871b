"""Face detection through the Triton `face_detector` model (models/face_detector)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rushes_inference.client import TritonClient
from rushes_inference.errors import InferenceError

FACE_DETECTOR_MODEL = "face_detector"


@dataclass(frozen=True)
class FaceDetections:
    boxes: np.ndarray  # float32 [N, 5]: x, y, w, h in image pixels, score in (0, 1); best first
    model: str
    model_version: str


async def detect_faces(
    client: TritonClient,
    image_bgr: np.ndarray,
    *,
    model: str = FACE_DETECTOR_MODEL,
    timeout_s: float | None = None,
) -> FaceDetections:
    """Find faces in one BGR uint8 frame [H, W, 3]. Raises ModelUnavailable or InferenceError."""
    outputs = await client.infer(model, {"IMAGE": image_bgr}, ["BOXES", "MODEL_VERSION"], timeout_s=timeout_s)
    boxes = outputs["BOXES"]
    if boxes.ndim != 2 or boxes.shape[1] != 5:
        raise InferenceError(
            f"model {model!r} returned BOXES of shape {list(boxes.shape)}, expected [N, 5]", model=model
        )
    version = outputs["MODEL_VERSION"].reshape(-1)
    return FaceDetections(
        boxes=boxes.astype(np.float32, copy=False),
        model=model,
        model_version=bytes(version[0]).decode("utf-8") if version.size else "",
    )
