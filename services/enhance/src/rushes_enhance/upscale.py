"""Upscaling: the learned model's frame call (RGB in, RGB out), and the classical fallback.

The classical path is Lanczos-4 interpolation followed by a mild unsharp mask (restores some of the
acutance interpolation loses without the halos of a strong one). It is what renditions use when the
model is not ready or a frame is over the model's size cap, and the rendition says so in its reasons.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

CLASSICAL_MODEL = "lanczos4+unsharp"
CLASSICAL_VERSION = f"opencv-{cv2.__version__}"
UNSHARP_SIGMA = 1.0
UNSHARP_AMOUNT = 0.5

FrameUpscaler = Callable[[np.ndarray], np.ndarray]  # BGR uint8 -> BGR uint8, factor x


def classical_upscale(bgr: np.ndarray, factor: int) -> np.ndarray:
    height, width = bgr.shape[:2]
    big = cv2.resize(bgr, (width * factor, height * factor), interpolation=cv2.INTER_LANCZOS4)
    blurred = cv2.GaussianBlur(big, (0, 0), UNSHARP_SIGMA * factor / 2)
    return cv2.addWeighted(big, 1.0 + UNSHARP_AMOUNT, blurred, -UNSHARP_AMOUNT, 0)


def plain_resize(bgr: np.ndarray, factor: int) -> np.ndarray:
    """For frames outside the covered shots: same geometry as the rest, no enhancement."""
    height, width = bgr.shape[:2]
    return cv2.resize(bgr, (width * factor, height * factor), interpolation=cv2.INTER_LANCZOS4)


def classical_parameters(factor: int) -> dict[str, float | str]:
    return {
        "method": "classical",
        "factor": factor,
        "interpolation": "lanczos4",
        "unsharp_sigma": UNSHARP_SIGMA * factor / 2,
        "unsharp_amount": UNSHARP_AMOUNT,
    }
