"""Geometry of a rendition relative to its source, and frames brought onto one analysis grid.

The enhance service records, per rendition, the crop it applied (fraction of width and height
removed per side) and its scale. The source's crop window is the picture the rendition shows;
both are resampled to the same analysis grid (at most `analysis_width` wide) so every measure
compares like with like. A rendition whose shape does not match that window is refused with
the sizes named: comparing it anyway would report nonsense as artefacts.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import cv2
import numpy as np
from rushes_media import plane_array

ASPECT_TOLERANCE = 0.02
SIZE_TOLERANCE_PX = 2
MAX_CROP_FRACTION = 0.45
_YUV420 = frozenset({"yuv420p", "yuvj420p"})


class GeometryError(ValueError):
    """The rendition's size does not fit its source under the recorded crop and scale."""


@dataclass(frozen=True)
class Geometry:
    source_width: int
    source_height: int
    rendition_width: int
    rendition_height: int
    # The source window the rendition shows (source pixels).
    crop_x: int
    crop_y: int
    crop_width: int
    crop_height: int
    analysis_width: int
    analysis_height: int

    @property
    def scale(self) -> float:
        """Rendition pixels per source pixel of the crop window (2.0 for a 2x upscale)."""
        return self.rendition_width / self.crop_width

    @property
    def source_px_per_analysis_px(self) -> float:
        return self.crop_width / self.analysis_width


def plan_geometry(
    source_size: tuple[int, int],
    rendition_size: tuple[int, int],
    *,
    scale: float,
    crop_fraction: float,
    analysis_width: int,
) -> Geometry:
    """The crop window and analysis grid, or GeometryError naming what does not fit.

    `scale` 0 means "not recorded": the sizes decide. Otherwise the rendition must be `scale`
    times the crop window (crop, then scale) or `scale` times the whole source (crop, then
    resized back to the source's size: how a stabilizer hides its borders).
    """
    source_w, source_h = source_size
    rendition_w, rendition_h = rendition_size
    if min(source_w, source_h, rendition_w, rendition_h) <= 0:
        raise GeometryError(
            f"empty picture: source {source_w}x{source_h}, rendition {rendition_w}x{rendition_h}"
        )
    if not 0.0 <= crop_fraction < MAX_CROP_FRACTION:
        raise GeometryError(f"crop_fraction {crop_fraction} is outside [0, {MAX_CROP_FRACTION})")
    if scale < 0 or scale > 16:
        raise GeometryError(f"scale {scale} is outside [0, 16] (0: taken from the sizes)")
    crop_x = round(source_w * crop_fraction)
    crop_y = round(source_h * crop_fraction)
    crop_w, crop_h = source_w - 2 * crop_x, source_h - 2 * crop_y
    source_aspect = crop_w / crop_h
    rendition_aspect = rendition_w / rendition_h
    if abs(rendition_aspect / source_aspect - 1.0) > ASPECT_TOLERANCE:
        raise GeometryError(
            f"the rendition is {rendition_w}x{rendition_h} (aspect {rendition_aspect:.3f}) "
            f"but the source window is {crop_w}x{crop_h} (aspect {source_aspect:.3f}, crop {crop_fraction})"
        )
    if scale > 0:
        expected = [(crop_w * scale, crop_h * scale), (source_w * scale, source_h * scale)]
        if not any(_close(rendition_w, w) and _close(rendition_h, h) for w, h in expected):
            raise GeometryError(
                f"the rendition is {rendition_w}x{rendition_h} but scale {scale} of the "
                f"{crop_w}x{crop_h} source window means {round(expected[0][0])}x{round(expected[0][1])}"
            )
    analysis_w = min(analysis_width, max(crop_w, 32))
    analysis_w -= analysis_w % 2
    analysis_h = max(2, round(analysis_w / source_aspect / 2) * 2)
    return Geometry(
        source_width=source_w,
        source_height=source_h,
        rendition_width=rendition_w,
        rendition_height=rendition_h,
        crop_x=crop_x,
        crop_y=crop_y,
        crop_width=crop_w,
        crop_height=crop_h,
        analysis_width=analysis_w,
        analysis_height=analysis_h,
    )


def _close(actual: int, expected: float) -> bool:
    return abs(actual - expected) <= SIZE_TOLERANCE_PX + ASPECT_TOLERANCE * expected


@dataclass
class Planes:
    """A decoded frame as full-resolution Y and half-resolution U, V (8-bit 4:2:0)."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @classmethod
    def from_frame(cls, frame: av.VideoFrame) -> Planes:
        if frame.format.name not in _YUV420 or frame.width % 2 or frame.height % 2:
            frame = frame.reformat(
                width=frame.width - frame.width % 2, height=frame.height - frame.height % 2, format="yuv420p"
            )
        # Views of the decoder's own planes: no copy (to_ndarray stacks all three into a new array).
        y, u, v = (plane_array(plane, np.uint8) for plane in frame.planes[:3])
        return cls(y=y, u=u, v=v)

    @classmethod
    def from_bgr(cls, bgr: np.ndarray) -> Planes:
        """From an 8-bit BGR picture (tests, synthetic pairs)."""
        yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
        half = (bgr.shape[1] // 2, bgr.shape[0] // 2)
        u = cv2.resize(yuv[..., 1], half, interpolation=cv2.INTER_AREA)
        v = cv2.resize(yuv[..., 2], half, interpolation=cv2.INTER_AREA)
        return cls(y=np.ascontiguousarray(yuv[..., 0]), u=u, v=v)


@dataclass
class GridFrame:
    """One frame on the analysis grid: luma always, colour only when asked for (it costs)."""

    luma: np.ndarray  # float32 code values, analysis_height x analysis_width
    u: np.ndarray
    v: np.ndarray

    def bgr(self) -> np.ndarray:
        yuv = cv2.merge([np.clip(self.luma, 0, 255).astype(np.uint8), self.u, self.v])
        return np.asarray(cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR))


def to_grid(planes: Planes, geometry: Geometry, *, is_source: bool) -> GridFrame:
    """Crop (source only) and resample to the analysis grid."""
    size = (geometry.analysis_width, geometry.analysis_height)
    y, u, v = planes.y, planes.u, planes.v
    if is_source:
        x0, y0 = geometry.crop_x, geometry.crop_y
        x1, y1 = x0 + geometry.crop_width, y0 + geometry.crop_height
        y = y[y0:y1, x0:x1]
        u = u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
        v = v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
    return GridFrame(luma=_resize(y, size).astype(np.float32), u=_resize(u, size), v=_resize(v, size))


def _resize(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if plane.shape[1] == size[0] and plane.shape[0] == size[1]:
        return plane
    shrinking = plane.shape[1] > size[0]
    return np.asarray(cv2.resize(plane, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC))


def native_tiles(
    source: Planes, rendition: Planes, geometry: Geometry, centre: tuple[float, float], tile: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """A `tile` x `tile` luma window of the rendition at its own resolution, and the source's same
    window resampled (bicubic) to it: where upscaling artefacts (checkerboard, jaggies) are visible.
    `centre` is a point in analysis-grid coordinates. None when the rendition is smaller than a tile."""
    if geometry.rendition_width < tile or geometry.rendition_height < tile:
        return None
    rx = geometry.rendition_width / geometry.analysis_width
    ry = geometry.rendition_height / geometry.analysis_height
    x0 = int(np.clip(centre[0] * rx - tile / 2, 0, geometry.rendition_width - tile))
    y0 = int(np.clip(centre[1] * ry - tile / 2, 0, geometry.rendition_height - tile))
    rendition_tile = rendition.y[y0 : y0 + tile, x0 : x0 + tile].astype(np.float32)
    # The same window in source pixels (crop offset + rendition position / scale).
    sx = geometry.crop_width / geometry.rendition_width
    sy = geometry.crop_height / geometry.rendition_height
    src_x0, src_y0 = geometry.crop_x + x0 * sx, geometry.crop_y + y0 * sy
    src_w, src_h = tile * sx, tile * sy
    ix0, iy0 = int(np.floor(src_x0)), int(np.floor(src_y0))
    ix1 = min(source.y.shape[1], int(np.ceil(src_x0 + src_w)) + 1)
    iy1 = min(source.y.shape[0], int(np.ceil(src_y0 + src_h)) + 1)
    patch = source.y[iy0:iy1, ix0:ix1].astype(np.float32)
    # Sub-pixel exact resampling of the window: an affine map from tile pixels to patch pixels.
    matrix = np.array(
        [[sx, 0, src_x0 - ix0 + 0.5 * sx - 0.5], [0, sy, src_y0 - iy0 + 0.5 * sy - 0.5]], dtype=np.float32
    )
    reference = cv2.warpAffine(
        patch,
        matrix,
        (tile, tile),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(reference), rendition_tile
