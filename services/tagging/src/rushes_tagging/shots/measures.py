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

from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np

from rushes_tagging.shots.features import FrameFeatures

SEARCH_FRACTION: Final = 6
"""Alignment searches shifts up to 1/6 of the frame each way (about 11 px of a 64 px grid)."""

GAIN_LIMITS: Final = (0.6, 1.7)
"""Brightness gains `relit_change` forgives. Wider would excuse a cut to a darker shot."""


@dataclass(frozen=True, slots=True)
class Alignment:
    """The translation that best maps frame a onto frame b, and the crop windows it implies."""

    dx: int
    dy: int
    margin_x: int
    margin_y: int

    def windows(self, height: int, width: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
        """(rows, cols) of the centre crop of a, and of the matching region of b."""
        mx, my = self.margin_x, self.margin_y
        crop_a = (slice(my, height - my), slice(mx, width - mx))
        crop_b = (slice(my + self.dy, height - my + self.dy), slice(mx + self.dx, width - mx + self.dx))
        return crop_a, crop_b


def align(a: np.ndarray, b: np.ndarray) -> Alignment:
    """Best global shift of luma `a` onto luma `b` (least squares over the search window)."""
    height, width = a.shape
    mx, my = max(1, width // SEARCH_FRACTION), max(1, height // SEARCH_FRACTION)
    if width - 2 * mx < 4 or height - 2 * my < 4:
        return Alignment(0, 0, 0, 0)
    template = a[my : height - my, mx : width - mx]
    scores = cv2.matchTemplate(b, template, cv2.TM_SQDIFF)
    _, _, (x, y), _ = cv2.minMaxLoc(scores)
    # Prefer no shift when it is as good as the best one (flat or uniform pictures).
    centre = float(scores[my, mx])
    if centre <= float(scores[y, x]) * 1.02 + 1e-6:
        x, y = mx, my
    return Alignment(x - mx, y - my, mx, my)


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(cv2.norm(a, b, cv2.NORM_L1)) / a.size


def content_change(a: FrameFeatures, b: FrameFeatures, alignment: Alignment | None = None) -> float:
    """Mean |luma| + mean |U| + mean |V| difference after alignment; 0 (same) to about 1.5."""
    alignment = alignment or align(a.luma, b.luma)
    crop_a, crop_b = alignment.windows(*a.luma.shape)
    luma = _mad(a.luma[crop_a], b.luma[crop_b])
    u = _mad(a.chroma[0][crop_a], b.chroma[0][crop_b])
    v = _mad(a.chroma[1][crop_a], b.chroma[1][crop_b])
    return luma + u + v


def relit_change(a: FrameFeatures, b: FrameFeatures, alignment: Alignment | None = None) -> float:
    """`content_change` after fitting b's luma as gain * a + offset (gain within GAIN_LIMITS)."""
    alignment = alignment or align(a.luma, b.luma)
    crop_a, crop_b = alignment.windows(*a.luma.shape)
    la, lb = a.luma[crop_a], b.luma[crop_b]
    mean_a, mean_b = float(la.mean()), float(lb.mean())
    var_a = float(la.var())
    gain = float(((la - mean_a) * (lb - mean_b)).mean()) / var_a if var_a > 1e-6 else 1.0
    gain = min(max(gain, GAIN_LIMITS[0]), GAIN_LIMITS[1])
    # The offset must not carry a cut to black or white either: bounded like the gain.
    offset = min(max(mean_b - gain * mean_a, -0.35), 0.35)
    luma = float(np.abs(lb - (gain * la + offset)).mean())
    u = _mad(a.chroma[0][crop_a], b.chroma[0][crop_b])
    v = _mad(a.chroma[1][crop_a], b.chroma[1][crop_b])
    return luma + u + v


def histogram_change(a: FrameFeatures, b: FrameFeatures) -> float:
    """Half the L1 distance between the colour histograms, luma weighted 1/2, U and V 1/4 each: 0..1."""
    diff = np.abs(a.hist - b.hist)
    from rushes_tagging.shots.features import C_BINS, Y_BINS

    y = float(diff[:Y_BINS].sum())
    u = float(diff[Y_BINS : Y_BINS + C_BINS].sum())
    v = float(diff[Y_BINS + C_BINS :].sum())
    return 0.5 * (0.5 * y + 0.25 * u + 0.25 * v)


def _stack(features: FrameFeatures) -> np.ndarray:
    return np.concatenate([features.luma.ravel(), features.chroma.ravel()])


@dataclass(frozen=True, slots=True)
class BlendFit:
    """m ~ (1 - alpha) * a + alpha * b: alpha, and the residual relative to |b - a| (0 = exact)."""

    alpha: float
    residual: float
    distance: float  # mean |b - a| over luma and chroma samples (unaligned)


def blend_fit(a: FrameFeatures, m: FrameFeatures, b: FrameFeatures) -> BlendFit:
    """Least-squares fit of m as a mix of a and b (luma and chroma together)."""
    va, vm, vb = _stack(a), _stack(m), _stack(b)
    span = vb - va
    norm2 = float(np.dot(span, span))
    distance = float(np.abs(span).mean())
    if norm2 < 1e-9:
        return BlendFit(0.0, 1.0, distance)
    offset = vm - va
    alpha = min(max(float(np.dot(offset, span)) / norm2, 0.0), 1.0)
    residual = float(np.linalg.norm(offset - alpha * span)) / float(np.sqrt(norm2))
    return BlendFit(alpha, residual, distance)


def blend_alpha(a: FrameFeatures, m: FrameFeatures, b: FrameFeatures) -> float:
    """Only the mixing coefficient of `blend_fit` (for per-frame profiles)."""
    return blend_fit(a, m, b).alpha
