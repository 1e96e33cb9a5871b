"""Generated pictures with known colour errors: the ground truth for tests and the benchmark.

A "scene" is a smooth, colourful picture (sky-like gradient, coloured objects, a skin-toned face
patch, a specular highlight, fine texture) in sRGB code values. `with_cast` renders the same scene
as a camera with an exposure offset and a white-balance error would have recorded it (gains in
linear light), so a perfect grade is known: the original scene.
"""

from __future__ import annotations

import numpy as np

from rushes_grading import colour_math


def scene(width: int = 320, height: int = 180, *, seed: int = 7) -> np.ndarray:
    """uint8 RGB (height, width, 3)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = x / max(width - 1, 1), y / max(height - 1, 1)
    image = np.empty((height, width, 3))
    image[..., 0] = 0.25 + 0.35 * u
    image[..., 1] = 0.35 + 0.25 * (1 - v)
    image[..., 2] = 0.45 + 0.35 * (1 - v) * (1 - u)
    patches = [
        ((0.08, 0.55, 0.22, 0.9), (0.72, 0.18, 0.15)),  # red object
        ((0.28, 0.6, 0.42, 0.92), (0.2, 0.55, 0.25)),  # foliage
        ((0.48, 0.15, 0.62, 0.55), (0.87, 0.67, 0.55)),  # face (skin)
        ((0.7, 0.55, 0.9, 0.9), (0.9, 0.75, 0.2)),  # yellow object
        ((0.68, 0.1, 0.78, 0.3), (0.15, 0.2, 0.5)),  # dark blue
        ((0.85, 0.08, 0.95, 0.2), (0.97, 0.96, 0.94)),  # near-white highlight
    ]
    for (x0, y0, x1, y1), colour in patches:
        box = (u >= x0) & (u < x1) & (v >= y0) & (v < y1)
        shade = 0.8 + 0.2 * (1 - v[box])[:, None]
        image[box] = np.asarray(colour) * shade
    image *= 1.0 + 0.03 * rng.standard_normal((height, width, 1))
    return np.asarray(np.clip(np.rint(image * 255), 0, 255).astype(np.uint8))


def with_cast(
    image: np.ndarray, *, gains: tuple[float, float, float] = (1.0, 1.0, 1.0), exposure_stops: float = 0.0
) -> np.ndarray:
    """The same picture through a camera with these linear-light channel gains and exposure."""
    linear = colour_math.decode_srgb(colour_math.to_float(image)) * np.asarray(gains) * 2.0**exposure_stops
    encoded = colour_math.encode_srgb(np.clip(linear, 0.0, 1.0))
    return np.asarray(np.clip(np.rint(encoded * 255), 0, 255).astype(np.uint8))


def monochrome(image: np.ndarray) -> np.ndarray:
    """The picture with its colour removed (Rec.709 luma on every channel)."""
    luma = colour_math.to_float(image) @ colour_math.REC709_LUMA
    return np.asarray(np.repeat(np.rint(luma * 255).astype(np.uint8)[..., None], 3, axis=-1))
