"""Colour conversions the matcher works in, on top of colour-science.

Pixels travel as float arrays shaped (..., 3): display-referred sRGB / Rec.709 code values in
[0, 1] ("encoded"), linear light ("linear"), Oklab (the perceptual space statistics are
transferred in) and CIELAB (only for CIEDE2000, the error the confidence is derived from).
Everything is D65, so no chromatic adaptation happens anywhere.
"""

from __future__ import annotations

import warnings
from functools import cache
from types import ModuleType
from typing import Final

import numpy as np

# Rec.709 luma weights on encoded values: what ASC CDL saturation and the preview labels use.
REC709_LUMA: Final = np.array([0.2126, 0.7152, 0.0722])


@cache
def colour_science() -> ModuleType:
    """colour-science, imported once and without its 'SciPy/Matplotlib not installed' warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour

    return colour


@cache
def _matrices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    colour = colour_science()
    space = colour.RGB_COLOURSPACES["sRGB"]
    d65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
    return np.asarray(space.matrix_RGB_to_XYZ), np.asarray(space.matrix_XYZ_to_RGB), np.asarray(d65)


def to_float(image: np.ndarray) -> np.ndarray:
    """uint8 / uint16 code values -> float64 in [0, 1]; floats pass through."""
    if image.dtype == np.uint8:
        return image.astype(np.float64) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float64) / 65535.0
    return np.asarray(image, dtype=np.float64)


def decode_srgb(encoded: np.ndarray) -> np.ndarray:
    """sRGB code values -> linear light (the IEC 61966-2-1 curve, colour-science's implementation)."""
    return np.asarray(colour_science().cctf_decoding(np.clip(encoded, 0.0, 1.0), function="sRGB"))


def encode_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light -> sRGB code values; callers clip into [0, 1] first (see transform.soft_clip)."""
    return np.asarray(colour_science().cctf_encoding(np.clip(linear, 0.0, 1.0), function="sRGB"))


def linear_to_xyz(linear: np.ndarray) -> np.ndarray:
    return np.asarray(linear @ _matrices()[0].T)


def xyz_to_linear(xyz: np.ndarray) -> np.ndarray:
    return np.asarray(xyz @ _matrices()[1].T)


def linear_to_oklab(linear: np.ndarray) -> np.ndarray:
    return np.asarray(colour_science().XYZ_to_Oklab(linear_to_xyz(linear)))


def oklab_to_linear(oklab: np.ndarray) -> np.ndarray:
    return xyz_to_linear(np.asarray(colour_science().Oklab_to_XYZ(oklab)))


def encoded_to_lab(encoded: np.ndarray) -> np.ndarray:
    """sRGB code values -> CIELAB (D65), for CIEDE2000."""
    xyz = linear_to_xyz(decode_srgb(encoded))
    return np.asarray(colour_science().XYZ_to_Lab(xyz, _matrices()[2]))


def delta_e_2000(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    """CIEDE2000 between two CIELAB arrays of the same shape (one value per colour)."""
    return np.asarray(colour_science().delta_E(lab_a, lab_b, method="CIE 2000"))


def mean_delta_e(encoded_a: np.ndarray, encoded_b: np.ndarray) -> float:
    """Mean CIEDE2000 between two images (or colour lists) in sRGB code values."""
    return float(
        np.mean(delta_e_2000(encoded_to_lab(to_float(encoded_a)), encoded_to_lab(to_float(encoded_b))))
    )
