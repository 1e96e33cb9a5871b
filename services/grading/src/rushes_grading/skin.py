"""Where skin is, in Oklab: the colours a grade must not push off their natural hue.

Skin of every complexion sits in a narrow band of hue (orange-red, about 40-80 degrees in Oklab)
at low to moderate chroma; what varies between complexions is mostly lightness. The weight is a
smooth function of hue and chroma so a 33-point LUT reproduces it faithfully.
"""

from __future__ import annotations

from typing import Final

import numpy as np

SKIN_HUE_RAD: Final = np.deg2rad(60.0)
SKIN_HUE_WIDTH_RAD: Final = np.deg2rad(18.0)  # Gaussian sigma around the skin hue
SKIN_CHROMA_MIN: Final = (0.015, 0.04)  # ramp in: greys are not skin
SKIN_CHROMA_MAX: Final = (0.16, 0.22)  # ramp out: saturated oranges are not skin


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def skin_weight(oklab: np.ndarray) -> np.ndarray:
    """In [0, 1] per colour: how much it looks like skin."""
    a, b = oklab[..., 1], oklab[..., 2]
    chroma = np.hypot(a, b)
    hue = np.arctan2(b, a)
    distance = np.angle(np.exp(1j * (hue - SKIN_HUE_RAD)))  # wrapped to [-pi, pi]
    hue_match = np.exp(-0.5 * (distance / SKIN_HUE_WIDTH_RAD) ** 2)
    chroma_match = smoothstep(*SKIN_CHROMA_MIN, chroma) * (1.0 - smoothstep(*SKIN_CHROMA_MAX, chroma))
    return np.asarray(hue_match * chroma_match)
