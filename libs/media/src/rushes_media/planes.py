"""Zero-copy access to a decoded frame's planes (analysis reads luma without converting it)."""

from __future__ import annotations

import av
import numpy as np


def plane_array(plane: av.video.plane.VideoPlane, dtype: type[np.generic]) -> np.ndarray:
    """A zero-copy view of one plane (rows padded to line_size are cut back to the visible width)."""
    itemsize = np.dtype(dtype).itemsize
    raw = np.frombuffer(memoryview(plane), dtype)
    return raw.reshape(plane.height, plane.line_size // itemsize)[:, : plane.width]
