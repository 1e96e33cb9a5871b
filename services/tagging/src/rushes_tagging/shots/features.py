"""Per-frame features for shot detection: a thumbnail-sized YUV picture and its luma level.

Everything downstream works on a frame of about 64x36 samples, so the cost per frame is fixed
whatever the source resolution. The decoded planes are read in place (no colour conversion of the
full picture, no libswscale pass, which costs several times more here): a large plane is shrunk
bilinearly to twice the grid and then halved, which averages about 16 source samples per output
sample (enough to keep grain and fine texture from aliasing into change) at a tenth of the cost
of a full-size INTER_AREA; 8-bit code values become floats through a lookup table.

The grid follows the *display* shape: the stream's sample aspect ratio is applied and a rotation
flag (display matrix) turns the thumbnail upright, so anamorphic or phone footage yields the same
features as its square-pixel, upright equivalent.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Final

import av
import cv2
import numpy as np
from rushes_media.planes import plane_array

GRID_AREA: Final = 64 * 36
"""Samples in the feature grid (64x36 for 16:9). Small enough to be cheap, large enough that a
cut between two shots of one location still changes many samples."""

# Pixel formats whose planes are read directly: (chroma subsampling x, y, bytes per sample).
_PLANAR_YUV: Final[dict[str, tuple[int, int, int]]] = {
    "yuv420p": (2, 2, 1),
    "yuvj420p": (2, 2, 1),
    "yuv422p": (2, 1, 1),
    "yuvj422p": (2, 1, 1),
    "yuv444p": (1, 1, 1),
    "yuvj444p": (1, 1, 1),
    "yuv440p": (1, 2, 1),
    "yuvj440p": (1, 2, 1),
    "yuv411p": (4, 1, 1),
    "yuv420p10le": (2, 2, 2),
    "yuv422p10le": (2, 1, 2),
    "yuv444p10le": (1, 1, 2),
    "yuv420p12le": (2, 2, 2),
    "yuv422p12le": (2, 1, 2),
    "yuv444p12le": (1, 1, 2),
}
_BITS: Final[dict[str, int]] = {"10le": 10, "12le": 12}
_GRAY_BITS: Final[dict[str, int]] = {"gray": 8, "gray8": 8, "gray10le": 10, "gray12le": 12}
_COLOR_RANGE_JPEG: Final = 2  # AVCOL_RANGE_JPEG


class FrameFeatures:
    """What the detector knows about one frame.

    `pixels` holds Y, U and V on the grid, display-upright, in one contiguous float32 block
    (so whole-frame comparisons are single vector operations): Y is 0 = black .. 1 = white
    whatever the source range or bit depth, U and V are 0..1 with 0.5 neutral. `luma`, `chroma`
    and `vector` are views of it, made once (they are read thousands of times per clip).
    `mean` is the mean luma; `peak` the brightest grid sample (each averages ~16 source pixels,
    so grain cannot fake it).
    """

    __slots__ = ("chroma", "luma", "mean", "peak", "pixels", "vector")

    def __init__(self, pixels: np.ndarray) -> None:
        if pixels.ndim != 3 or pixels.shape[0] != 3 or pixels.dtype != np.float32:
            raise ValueError(f"pixels must be float32 (3, h, w), got {pixels.dtype} {pixels.shape}")
        self.pixels = np.ascontiguousarray(pixels)
        self.luma = self.pixels[0]
        self.chroma = self.pixels[1:]
        self.vector = self.pixels.reshape(-1)
        self.mean = float(self.luma.mean())
        self.peak = float(self.luma.max())


def grid_size(width: int, height: int, sample_aspect_ratio: Fraction | None) -> tuple[int, int]:
    """(grid width, grid height) of the stored picture, shaped like it displays before any rotation."""
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    sar = float(sample_aspect_ratio) if sample_aspect_ratio and sample_aspect_ratio > 0 else 1.0
    display_aspect = width * sar / height
    grid_h = max(4, round(math.sqrt(GRID_AREA / display_aspect)))
    grid_w = max(4, round(GRID_AREA / grid_h))
    return grid_w, grid_h


def upright_turns(rotation: float) -> int:
    """Quarter turns counter-clockwise (np.rot90's k) that make a frame with `rotation` upright.

    PyAV's `frame.rotation` is the display matrix angle, counter-clockwise: -90 means the picture
    must be turned 90 degrees clockwise to display upright.
    """
    return round(rotation / 90) % 4


class FeatureExtractor:
    """Turns decoded frames of one stream into `FrameFeatures` (create one per stream).

    The grid is fixed by the first frame, so a mid-stream resolution change is scaled to the same
    grid and the features stay comparable.
    """

    def __init__(self, sample_aspect_ratio: Fraction | None = None) -> None:
        self._sar = sample_aspect_ratio
        self._grid: tuple[int, int] | None = None
        self._turns = 0

    def __call__(self, frame: av.VideoFrame) -> FrameFeatures:
        if self._grid is None:
            self._turns = upright_turns(frame.rotation)
            # The grid is shaped like the stored picture (where the sample aspect ratio applies);
            # turning it upright afterwards gives the displayed shape.
            self._grid = grid_size(frame.width, frame.height, self._sar)
        pixels = self._pixels(frame, *self._grid)
        if self._turns:
            pixels = np.ascontiguousarray(np.rot90(pixels, self._turns, axes=(1, 2)))
        return FrameFeatures(pixels)

    def _pixels(self, frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
        fmt = frame.format.name
        layout = _PLANAR_YUV.get(fmt)
        full_range = fmt.startswith("yuvj") or getattr(frame, "color_range", 0) == _COLOR_RANGE_JPEG
        if layout is not None:
            bits = _BITS.get(fmt[-4:], 8)
            dtype = np.uint16 if layout[2] == 2 else np.uint8
            planes = [_shrink(plane_array(plane, dtype), width, height) for plane in frame.planes[:3]]
            return _normalise(planes, bits, full_range)
        if fmt in _GRAY_BITS:
            bits = _GRAY_BITS[fmt]
            luma = _shrink(plane_array(frame.planes[0], np.uint8 if bits == 8 else np.uint16), width, height)
            neutral = np.full_like(luma, 1 << (bits - 1))
            return _normalise([luma, neutral, neutral], bits, True)
        # Anything else (NV12 from hardware decoders, RGB, packed 4:2:2, 16-bit...): libswscale
        # converts straight to a small planar frame.
        small = frame.reformat(
            width=width * 2, height=height * 2, format="yuv444p", interpolation="FAST_BILINEAR"
        )
        planes = [_shrink(plane_array(plane, np.uint8), width, height) for plane in small.planes[:3]]
        return _normalise(planes, 8, full_range)


def _shrink(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """To the grid: from large planes bilinear to twice the grid then halved (exactly a 2x2 box
    average), so each sample averages ~16 source pixels and grain or fine texture cannot alias
    into change; small planes (chroma, small videos) in one bilinear step."""
    if array.shape[1] > width * 3 or array.shape[0] > height * 3:
        array = cv2.resize(array, (width * 2, height * 2), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(array, (width, height), interpolation=cv2.INTER_LINEAR)


def _range_tables(full_range: bool) -> tuple[np.ndarray, np.ndarray]:
    """8-bit code value -> normalised float (luma, chroma): one table lookup per plane."""
    codes = np.arange(256, dtype=np.float32)
    if full_range:
        return codes / 255.0, codes / 255.0
    luma = np.clip((codes - 16.0) / 219.0, 0.0, 1.0).astype(np.float32)
    chroma = np.clip((codes - 16.0) / 224.0, 0.0, 1.0).astype(np.float32)
    return luma, chroma


_TABLES: Final = {full: _range_tables(full) for full in (False, True)}


def _normalise(planes: list[np.ndarray], bits: int, full_range: bool) -> np.ndarray:
    """Y, U, V stacked as float32: Y 0..1 (black..white), U/V 0..1 (0.5 neutral), any range or depth."""
    pixels = np.empty((3, *planes[0].shape), np.float32)
    if bits == 8:
        luma, chroma = _TABLES[full_range]
        cv2.LUT(planes[0], luma, dst=pixels[0])
        cv2.LUT(planes[1], chroma, dst=pixels[1])
        cv2.LUT(planes[2], chroma, dst=pixels[2])
        return pixels
    pixels[0], pixels[1], pixels[2] = planes
    scale = float(1 << (bits - 8))
    if full_range:
        pixels *= 1.0 / (255.0 * scale)
        return pixels
    pixels -= 16.0 * scale
    pixels[0] *= 1.0 / (219.0 * scale)
    pixels[1:] *= 1.0 / (224.0 * scale)
    return np.clip(pixels, 0.0, 1.0, out=pixels)


def features_from_planes(luma: np.ndarray, u: np.ndarray, v: np.ndarray) -> FrameFeatures:
    """Features from grid-sized float planes in 0..1 (also the entry point for tests and callers
    that already hold a small upright picture)."""
    pixels = np.empty((3, *luma.shape), np.float32)
    pixels[0], pixels[1], pixels[2] = luma, u, v
    return FrameFeatures(pixels)


def features_from_rgb(rgb: np.ndarray) -> FrameFeatures:
    """Features of an RGB uint8 picture of any size (full-range BT.601), e.g. a rendered test frame."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (h, w, 3) uint8 RGB picture, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    grid_w, grid_h = grid_size(width, height, None)
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV)
    planes = [_shrink(np.ascontiguousarray(yuv[..., k]), grid_w, grid_h) for k in range(3)]
    pixels = _normalise(planes, 8, True)
    return FrameFeatures(pixels)
