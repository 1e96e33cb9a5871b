"""How different two frames are, in the ways that matter for shot boundaries.

`content_change` is the workhorse: the mean absolute luma + chroma difference after the best
global translation of one frame onto the other. Aligning first is what keeps pans, tilts, shake
and (up to the search range) whip pans from looking like new content, while a cut between two
shots of one location, whose colours barely differ, still changes most samples.

`relit_change` additionally forgives a global brightness gain/offset (within limits): a camera
flash fading out, or a light switched on, leaves the picture's structure in place, a cut does not.

`blend_fit` tests whether a frame is a linear mix of two others, the signature of a dissolve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np

from rushes_tagging.shots.features import FrameFeatures

SEARCH_FRACTION: Final = 6
"""Alignment searches shifts up to 1/6 of the frame each way (about 11 px of a 64 px grid)."""

GAIN_LIMITS: Final = (0.6, 1.7)
"""Brightness gains `relit_change` forgives. Wider would excuse a cut to a darker shot."""

CLIP_LEVEL: Final = 0.97
"""Luma this close to white may be clipped: left out when fitting a gain."""


@dataclass(frozen=True, slots=True)
class Alignment:
    """The translation that best maps frame a onto frame b: b[y + dy, x + dx] ~ a[y, x]."""

    dx: int
    dy: int

    def windows(self, height: int, width: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
        """(rows, cols) of a and of b over which the two frames overlap after the shift."""
        dx, dy = self.dx, self.dy
        rows_a = slice(max(0, -dy), height - max(0, dy))
        cols_a = slice(max(0, -dx), width - max(0, dx))
        rows_b = slice(max(0, dy), height - max(0, -dy))
        cols_b = slice(max(0, dx), width - max(0, -dx))
        return (rows_a, cols_a), (rows_b, cols_b)


def align(a: np.ndarray, b: np.ndarray) -> Alignment:
    """Best global shift of luma `a` onto luma `b` (least squares over the search window)."""
    height, width = a.shape
    mx, my = max(1, width // SEARCH_FRACTION), max(1, height // SEARCH_FRACTION)
    if width - 2 * mx < 4 or height - 2 * my < 4:
        return Alignment(0, 0)
    template = a[my : height - my, mx : width - mx]
    scores = cv2.matchTemplate(b, template, cv2.TM_SQDIFF)
    _, _, (x, y), _ = cv2.minMaxLoc(scores)
    if (x, y) == (mx, my):
        return Alignment(0, 0)
    # Least squares lets one large, contrasty moving object pull the whole picture along; the
    # background it then misaligns costs more in absolute differences than it saved. Keep the
    # shift only if it also wins in L1 (and clearly: flat pictures match anywhere).
    window = b[y : y + height - 2 * my, x : x + width - 2 * mx]
    centre = b[my : height - my, mx : width - mx]
    if cv2.norm(template, window, cv2.NORM_L1) < 0.98 * cv2.norm(template, centre, cv2.NORM_L1):
        return Alignment(x - mx, y - my)
    return Alignment(0, 0)


def _l1(a: np.ndarray, b: np.ndarray) -> float:
    return float(cv2.norm(a, b, cv2.NORM_L1))


def _aligned_l1(a: FrameFeatures, b: FrameFeatures, alignment: Alignment) -> tuple[float, float, int]:
    """(luma L1, chroma L1, samples per plane) over the overlap of a and b after `alignment`."""
    if alignment.dx == 0 and alignment.dy == 0:
        luma = _l1(a.pixels[0], b.pixels[0])
        return luma, _l1(a.vector, b.vector) - luma, a.pixels[0].size
    (rows_a, cols_a), (rows_b, cols_b) = alignment.windows(*a.luma.shape)
    planes = [_l1(a.pixels[k][rows_a, cols_a], b.pixels[k][rows_b, cols_b]) for k in range(3)]
    return planes[0], planes[1] + planes[2], a.pixels[0][rows_a, cols_a].size


def content_change(a: FrameFeatures, b: FrameFeatures, alignment: Alignment | None = None) -> float:
    """Mean |luma| + mean |U| + mean |V| difference after alignment; 0 (same) to about 1.5."""
    alignment = alignment or align(a.luma, b.luma)
    luma, chroma, samples = _aligned_l1(a, b, alignment)
    return (luma + chroma) / samples


def relit_change(a: FrameFeatures, b: FrameFeatures, alignment: Alignment | None = None) -> float:
    """`content_change` after forgiving a brightness gain (within GAIN_LIMITS) and offset.

    The gain is fitted on luma (b ~ gain * a + offset) and applied to the chroma deviations from
    neutral as well, which is what scaling the light (a flash fading, exposure drifting) does.
    """
    alignment = alignment or align(a.luma, b.luma)
    (rows_a, cols_a), (rows_b, cols_b) = alignment.windows(*a.luma.shape)
    pa, pb = a.pixels[:, rows_a, cols_a], b.pixels[:, rows_b, cols_b]
    la, lb = pa[0], pb[0]
    # Fit on samples that clip in neither frame (a brightened sky saturates), predict with clipping.
    unclipped = ((la < CLIP_LEVEL) & (lb < CLIP_LEVEL)).astype(np.float32)
    count = float(unclipped.sum())
    if count < 0.3 * la.size:
        unclipped.fill(1.0)
        count = float(la.size)
    masked_a = la * unclipped
    mean_a = float(masked_a.sum()) / count
    mean_b = float(np.vdot(lb, unclipped)) / count
    var_a = float(np.vdot(masked_a, la)) / count - mean_a * mean_a
    cov = float(np.vdot(masked_a, lb)) / count - mean_a * mean_b
    gain = cov / var_a if var_a > 1e-6 else 1.0
    gain = min(max(gain, GAIN_LIMITS[0]), GAIN_LIMITS[1])
    # The offset must not carry a cut to black or white either: bounded like the gain.
    offset = min(max(mean_b - gain * mean_a, -0.35), 0.35)
    predicted = la * gain
    predicted += offset
    np.clip(predicted, 0.0, 1.0, out=predicted)
    luma = _l1(lb, predicted)
    relit_chroma = pa[1:] * gain
    relit_chroma += 0.5 * (1.0 - gain)  # deviations from neutral scale with the light
    chroma = _l1(np.ascontiguousarray(pb[1:]), relit_chroma)
    return (luma + chroma) / la.size


COVERAGE_GRID: Final = (6, 4)
"""Blocks (across, down) over which `change_coverage` checks where the change happened."""


def change_coverage(a: FrameFeatures, b: FrameFeatures, alignment: Alignment | None = None) -> float:
    """Fraction of the picture's blocks that took part in the change from a to b (0..1).

    A cut or a dissolve replaces the whole picture; an object rushing past the lens, a flapping
    wing or a title fading out changes a part of it, however strongly. A block counts when its
    mean change reaches half the picture's mean change (and is above noise).
    """
    alignment = alignment or align(a.luma, b.luma)
    (rows_a, cols_a), (rows_b, cols_b) = alignment.windows(*a.luma.shape)
    diff = np.abs(a.pixels[:, rows_a, cols_a] - b.pixels[:, rows_b, cols_b]).sum(axis=0)
    blocks = cv2.resize(diff, COVERAGE_GRID, interpolation=cv2.INTER_AREA)
    level = max(0.02, float(diff.mean()) / 2.0)
    return float((blocks >= level).mean())


def quick_change(a: FrameFeatures, b: FrameFeatures) -> float:
    """`content_change` without alignment: the per-sample mean over Y, U and V together x3."""
    return 3.0 * _l1(a.vector, b.vector) / a.vector.size


def mix_excess(a: FrameFeatures, m: FrameFeatures, b: FrameFeatures, across: float | None = None) -> float:
    """How far m is from lying 'between' a and b: (|m-a| + |b-m|) / |b-a| - 1 in L1.

    Exactly 0 for any mix (1-w)a + wb, whatever w; larger when m has content of its own. A cheap
    screen before `blend_fit`. `across` may pass |b-a| (L1 sum) when already known.
    """
    across = _l1(a.vector, b.vector) if across is None else across
    if across <= 1e-9:
        return math.inf
    return (_l1(a.vector, m.vector) + _l1(m.vector, b.vector)) / across - 1.0


@dataclass(frozen=True, slots=True)
class BlendFit:
    """m ~ (1 - alpha) * a + alpha * b: alpha, and the residual relative to |b - a| (0 = exact)."""

    alpha: float
    residual: float


def blend_fit(a: FrameFeatures, m: FrameFeatures, b: FrameFeatures) -> BlendFit:
    """Least-squares fit of m as a mix of a and b (luma and chroma together)."""
    span = b.vector - a.vector
    norm2 = float(np.dot(span, span))
    if norm2 < 1e-9:
        return BlendFit(0.0, 1.0)
    offset = m.vector - a.vector
    alpha = min(max(float(np.dot(offset, span)) / norm2, 0.0), 1.0)
    offset -= alpha * span
    residual = math.sqrt(float(np.dot(offset, offset)) / norm2)
    return BlendFit(alpha, residual)


def blend_profile(a: FrameFeatures, frames: Sequence[FrameFeatures], b: FrameFeatures) -> tuple[float, ...]:
    """The mixing weight of each of `frames` between a (0) and b (1), unclamped."""
    span = b.vector - a.vector
    norm2 = float(np.dot(span, span))
    if norm2 < 1e-9:
        return tuple(0.0 for _ in frames)
    base = float(np.dot(a.vector, span))
    return tuple((float(np.dot(f.vector, span)) - base) / norm2 for f in frames)
