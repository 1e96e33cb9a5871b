"""Per-frame features for shot detection: a thumbnail-sized picture and its colour histograms.

Everything downstream works on a frame of about 64x36 samples, so the cost per frame is fixed
whatever the source resolution. The decoded planes are read in place (no colour conversion of the
full picture): each plane is shrunk with a bilinear step to twice the grid and an area step to the
grid, which averages 16 source samples per output sample (enough to suppress grain and aliasing
that would otherwise look like change) at about a tenth of the cost of a full-size INTER_AREA.

The grid follows the *display* shape: the stream's sample aspect ratio is applied and a rotation
flag (display matrix) turns the thumbnail upright, so anamorphic or phone footage yields the same
features as its square-pixel, upright equivalent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

import av
import cv2
import numpy as np

GRID_AREA: Final = 64 * 36
"""Samples in the feature grid (64x36 for 16:9). Small enough to be cheap, large enough that a
cut between two shots of one location still changes many samples."""

Y_BINS: Final = 32
C_BINS: Final = 16

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
_COLOR_RANGE_JPEG: Final = 2  # AVCOL_RANGE_JPEG


@dataclass(frozen=True, slots=True)
class FrameFeatures:
    """What the detector knows about one frame.

    `luma` is display-upright, 0 = black and 1 = white whatever the source range or bit depth;
    `chroma` holds U and V (0.5 = neutral) on the same grid. `hist` concatenates normalised
    histograms of Y (32 bins), U and V (16 bins each): each part sums to 1.
    """

    luma: np.ndarray  # float32 (h, w)
    chroma: np.ndarray  # float32 (2, h, w)
    hist: np.ndarray  # float32 (Y_BINS + 2 * C_BINS,)
    mean: float
    std: float
    peak: float  # 99th percentile of luma: how bright the brightest part is (fades, black frames)


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
        y, u, v = self._planes(frame, *self._grid)
        if self._turns:
            y, u, v = (np.ascontiguousarray(np.rot90(p, self._turns)) for p in (y, u, v))
        return features_from_planes(y, u, v)

    def _planes(self, frame: av.VideoFrame, width: int, height: int) -> tuple[np.ndarray, ...]:
        fmt = frame.format.name
        layout = _PLANAR_YUV.get(fmt)
        full_range = fmt.startswith("yuvj") or getattr(frame, "color_range", 0) == _COLOR_RANGE_JPEG
        if layout is not None:
            bits = _BITS.get(fmt[-4:], 8)
            dtype = np.uint16 if layout[2] == 2 else np.uint8
            planes = [_shrink(_plane_array(plane, dtype), width, height) for plane in frame.planes[:3]]
            return _normalise(planes, bits, full_range)
        if fmt in ("gray", "gray8", "gray10le", "gray12le", "gray16le"):
            bits = 8 if fmt in ("gray", "gray8") else int(fmt[4:6])
            dtype = np.uint8 if bits == 8 else np.uint16
            luma = _shrink(_plane_array(frame.planes[0], dtype), width, height)
            neutral = np.full_like(luma, 1 << (bits - 1))
            return _normalise([luma, neutral, neutral], bits, True)
        # Anything else (NV12 from hardware decoders, RGB, packed 4:2:2, 16-bit...): libswscale
        # converts straight to a small planar frame.
        small = frame.reformat(
            width=width * 2, height=height * 2, format="yuv444p", interpolation="FAST_BILINEAR"
        )
        planes = [_shrink(_plane_array(plane, np.uint8), width, height) for plane in small.planes[:3]]
        return _normalise(planes, 8, full_range)


def _plane_array(plane: av.video.plane.VideoPlane, dtype: type[np.generic]) -> np.ndarray:
    """A zero-copy view of one plane (rows padded to line_size are cut back to the visible width)."""
    itemsize = np.dtype(dtype).itemsize
    raw = np.frombuffer(plane, dtype)
    return raw.reshape(plane.height, plane.line_size // itemsize)[:, : plane.width]


def _shrink(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear to twice the grid, then 2x2 area averaging: cheap and reasonably alias-free."""
    if array.shape[1] > width * 2 or array.shape[0] > height * 2:
        array = cv2.resize(array, (width * 2, height * 2), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(array, (width, height), interpolation=cv2.INTER_AREA)


def _normalise(planes: list[np.ndarray], bits: int, full_range: bool) -> tuple[np.ndarray, ...]:
    """Y to 0..1 (black..white), U/V to 0..1 (0.5 neutral), whatever the range and bit depth."""
    scale = float(1 << (bits - 8))
    y, u, v = (p.astype(np.float32) for p in planes)
    if full_range:
        top = 255.0 * scale
        return y / top, u / top, v / top
    y = np.clip((y - 16.0 * scale) / (219.0 * scale), 0.0, 1.0)
    u = np.clip((u - 16.0 * scale) / (224.0 * scale), 0.0, 1.0)
    v = np.clip((v - 16.0 * scale) / (224.0 * scale), 0.0, 1.0)
    return y, u, v


def features_from_planes(luma: np.ndarray, u: np.ndarray, v: np.ndarray) -> FrameFeatures:
    """Features from grid-sized float planes in 0..1 (also the entry point for tests and callers
    that already hold a small upright picture)."""
    luma = np.ascontiguousarray(luma, dtype=np.float32)
    chroma = np.ascontiguousarray(np.stack([u, v]), dtype=np.float32)
    hist = np.concatenate(
        [
            _histogram(luma, Y_BINS),
            _histogram(chroma[0], C_BINS),
            _histogram(chroma[1], C_BINS),
        ]
    )
    flat = luma.ravel()
    peak = float(np.partition(flat, int(0.99 * (flat.size - 1)))[int(0.99 * (flat.size - 1))])
    return FrameFeatures(
        luma=luma, chroma=chroma, hist=hist, mean=float(flat.mean()), std=float(flat.std()), peak=peak
    )


def features_from_rgb(rgb: np.ndarray) -> FrameFeatures:
    """Features of an RGB uint8 picture of any size (full-range BT.601), e.g. a rendered test frame."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (h, w, 3) uint8 RGB picture, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    grid_w, grid_h = grid_size(width, height, None)
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV)
    planes = [_shrink(np.ascontiguousarray(yuv[..., k]), grid_w, grid_h) for k in range(3)]
    y, u, v = _normalise(planes, 8, True)
    return features_from_planes(y, u, v)


def _histogram(values: np.ndarray, bins: int) -> np.ndarray:
    index = np.minimum((values.ravel() * bins).astype(np.intp), bins - 1)
    counts = np.bincount(index, minlength=bins).astype(np.float32)
    return counts / max(float(counts.sum()), 1.0)
