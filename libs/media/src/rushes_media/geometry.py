"""Output frame sizes: apply the sample aspect ratio and rotation, fit a box, never upscale (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Scaling:
    """How to turn a coded picture into a display-correct, bounded output picture.

    `scaled_width` x `scaled_height` is the size *before* rotation (what the scaler produces);
    `width` x `height` is the final, upright size after rotating by `rotation` degrees clockwise.
    """

    scaled_width: int
    scaled_height: int
    width: int
    height: int
    rotation: int


def _even(value: float) -> int:
    """The even number at or below `value` (never above: no upscaling by a pixel), at least 2.

    The epsilon absorbs float error so 1279.9999999 still gives 1280.
    """
    return max(2, math.floor(value / 2.0 + 1e-6) * 2)


def fit_display(
    width: int, height: int, sar: Fraction | None, rotation: int, *, max_width: int, max_height: int
) -> Scaling:
    """Size of an upright, square-pixel picture inside max_width x max_height, even, never upscaled.

    A 720x576 PAL 16:9 frame (SAR 64:45) displays as 1024x576; a phone's 1920x1080 with rotation 90
    displays as 1080x1920. Both dimensions are even because yuv420p and H.264 require it.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"picture size must be positive, got {width}x{height}")
    aspect = sar if sar is not None and sar > 0 else Fraction(1)
    display_w, display_h = float(width * aspect), float(height)
    if display_w < width:  # SAR < 1: keep the coded width's detail by growing the height instead
        display_w, display_h = float(width), float(height / aspect)
    rotation %= 360
    upright_w, upright_h = (display_h, display_w) if rotation in (90, 270) else (display_w, display_h)
    scale = min(1.0, max_width / upright_w, max_height / upright_h)
    out_w, out_h = _even(upright_w * scale), _even(upright_h * scale)
    scaled_w, scaled_h = (out_h, out_w) if rotation in (90, 270) else (out_w, out_h)
    return Scaling(scaled_w, scaled_h, out_w, out_h, rotation)


def rotation_filters(rotation: int) -> list[tuple[str, str]]:
    """libavfilter steps that turn a picture `rotation` degrees clockwise (0, 90, 180, 270)."""
    rotation %= 360
    if rotation == 90:
        return [("transpose", "clock")]
    if rotation == 270:
        return [("transpose", "cclock")]
    if rotation == 180:
        return [("hflip", ""), ("vflip", "")]
    return []
