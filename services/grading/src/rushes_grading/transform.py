"""The grade: one smooth colour transform from sRGB code values to sRGB code values.

    linear = decode(rgb) * 2^exposure * wb_gains              white balance and exposure
    L      = tone(L)                                          tone / histogram matching (Oklab L)
    a, b   = (a, b - target mean) * chroma_scale + ref mean   colour statistics transfer (Oklab)
             ... blended back toward the balanced colour where the pixel looks like skin
    Oklab  = input + strength * (graded - input)              the colorist's "mix"
    rgb    = encode(soft_clip(linear))                        highlights roll off, never clip hard

Every step is continuous and smooth enough that a 33-point 3D LUT sampled from it and applied
with trilinear or tetrahedral interpolation (ffmpeg `lut3d`, Resolve, Premiere) reproduces the
direct evaluation to well under one CIEDE2000 (tests/test_grading_lut.py measures it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np

from rushes_grading import colour_math
from rushes_grading.skin import skin_weight

MAX_EXPOSURE_STOPS: Final = 4.0
MIN_GAIN, MAX_GAIN = 0.25, 4.0
MIN_CHROMA_SCALE, MAX_CHROMA_SCALE = 0.0, 3.0


class InvalidParams(ValueError):
    """Grade parameters outside what the transform accepts (the message names the field)."""


@dataclass(frozen=True)
class GradeParams:
    """What a grade does; identity by default. Field names are the proto's (GradeParams)."""

    exposure_stops: float = 0.0
    wb_gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    # Oklab L knots: tone_in[i] -> tone_out[i], increasing; empty for no tone change.
    tone_in: tuple[float, ...] = ()
    tone_out: tuple[float, ...] = ()
    target_ab: tuple[float, float] = (0.0, 0.0)  # the shot's cast (after white balance)
    reference_ab: tuple[float, float] = (0.0, 0.0)  # the reference's cast
    chroma_scale: float = 1.0
    skin_protect: float = 0.0  # 0: skin is graded like everything else; 1: keeps its balanced colour
    highlight_knee: float = 0.85  # linear level where the soft roll-off to white starts
    strength: float = 1.0  # 0: no grade, 1: the full grade
    saturation: float = 1.0  # the colorist's extra saturation on top of chroma_scale
    reasons: tuple[str, ...] = field(default=(), compare=False)  # how the matcher arrived at them

    def validated(self) -> GradeParams:
        checks: list[tuple[str, bool, str]] = [
            ("exposure_stops", abs(self.exposure_stops) <= MAX_EXPOSURE_STOPS, f"within +/-{MAX_EXPOSURE_STOPS}"),
            ("wb_gains", len(self.wb_gains) == 3 and all(MIN_GAIN <= g <= MAX_GAIN for g in self.wb_gains),
             f"three gains within {MIN_GAIN}..{MAX_GAIN}"),
            ("tone_in/tone_out", len(self.tone_in) == len(self.tone_out) and len(self.tone_in) != 1,
             "knot lists of equal length (0 or >= 2)"),
            ("tone_in", all(0.0 <= v <= 1.0 for v in self.tone_in + self.tone_out)
             and bool(np.all(np.diff(self.tone_in) > 0)), "increasing Oklab L values within 0..1"),
            ("chroma_scale", MIN_CHROMA_SCALE <= self.chroma_scale <= MAX_CHROMA_SCALE,
             f"within {MIN_CHROMA_SCALE}..{MAX_CHROMA_SCALE}"),
            ("saturation", 0.0 <= self.saturation <= MAX_CHROMA_SCALE, f"within 0..{MAX_CHROMA_SCALE}"),
            ("skin_protect", 0.0 <= self.skin_protect <= 1.0, "within 0..1"),
            ("strength", 0.0 <= self.strength <= 1.0, "within 0..1"),
            ("highlight_knee", 0.5 <= self.highlight_knee <= 1.0, "within 0.5..1"),
            ("target_ab/reference_ab", all(abs(v) <= 0.5 for v in self.target_ab + self.reference_ab),
             "Oklab a/b within +/-0.5"),
        ]  # fmt: skip
        values = [self.exposure_stops, *self.wb_gains, *self.tone_in, *self.tone_out, *self.target_ab,
                  *self.reference_ab, self.chroma_scale, self.saturation, self.skin_protect,
                  self.strength, self.highlight_knee]  # fmt: skip
        if not all(np.isfinite(values)):
            raise InvalidParams("grade parameters must be finite numbers (got NaN or infinity)")
        for name, ok, expected in checks:
            if not ok:
                raise InvalidParams(f"grade parameter {name} must be {expected}")
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "exposure_stops": self.exposure_stops,
            "wb_gains": list(self.wb_gains),
            "tone_in": list(self.tone_in),
            "tone_out": list(self.tone_out),
            "target_ab": list(self.target_ab),
            "reference_ab": list(self.reference_ab),
            "chroma_scale": self.chroma_scale,
            "skin_protect": self.skin_protect,
            "highlight_knee": self.highlight_knee,
            "strength": self.strength,
            "saturation": self.saturation,
        }

    def with_changes(self, **changes: Any) -> GradeParams:
        return replace(self, **changes).validated()


IDENTITY = GradeParams()


def shoulder_width(knee: float, peak: float) -> float:
    """w such that knee + w*tanh((peak - knee)/w) == 1: the roll-off that lands `peak` on white."""
    target, span = 1.0 - knee, peak - knee
    low, high = 1e-6, 1e6
    for _ in range(80):  # bisection: w*tanh(span/w) grows monotonically from 0 to span
        mid = (low * high) ** 0.5
        if mid * np.tanh(span / mid) < target:
            low = mid
        else:
            high = mid
    return (low * high) ** 0.5


def soft_clip(linear: np.ndarray, knee: float, peak: float) -> np.ndarray:
    """Highlight protection: values up to `knee` unchanged, (knee, peak] rolled smoothly onto
    (knee, 1] with slope 1 at the knee, so nothing that the grade brightened clips hard.

    `peak` is the brightest level the grade produces; when it does not exceed 1 nothing is
    compressed, so a grade that brightens nothing leaves highlights exactly as they were.
    """
    if peak <= 1.0 + 1e-6 or knee >= 1.0:
        return np.clip(linear, 0.0, 1.0)
    width = shoulder_width(knee, peak)
    rolled = knee + width * np.tanh(np.maximum(linear - knee, 0.0) / width)
    return np.clip(np.where(linear > knee, rolled, linear), 0.0, 1.0)


def tone_curve(
    lightness: np.ndarray, knots_in: tuple[float, ...], knots_out: tuple[float, ...]
) -> np.ndarray:
    """Piecewise-linear through the knots, continued toward (0, 0) and (1, 1) beyond them."""
    if not knots_in:
        return lightness
    xs = np.concatenate(([0.0], knots_in, [1.0]))
    ys = np.concatenate(([0.0], knots_out, [1.0]))
    if knots_in[0] <= 0.0:
        xs, ys = xs[1:], ys[1:]
    if knots_in[-1] >= 1.0:
        xs, ys = xs[:-1], ys[:-1]
    inside = np.interp(lightness, xs, ys)
    # Above white (a gain pushed linear light past 1) keep the slope of the top segment.
    top_slope = (ys[-1] - ys[-2]) / max(xs[-1] - xs[-2], 1e-9)
    return np.where(lightness > xs[-1], ys[-1] + (lightness - xs[-1]) * top_slope, inside)


def balance(encoded: np.ndarray, params: GradeParams) -> np.ndarray:
    """Linear light after exposure and white balance (before the look transfer)."""
    gains = np.asarray(params.wb_gains) * 2.0**params.exposure_stops
    return colour_math.decode_srgb(encoded) * gains


# The colours that reach the brightest output: white, the primaries and the secondaries.
_PEAK_PROBES: Final = np.array(
    [[1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=np.float64
)


def _graded_linear(encoded: np.ndarray, params: GradeParams) -> np.ndarray:
    original = colour_math.linear_to_oklab(colour_math.decode_srgb(encoded))
    balanced = colour_math.linear_to_oklab(balance(encoded, params))
    lightness = tone_curve(balanced[..., 0], params.tone_in, params.tone_out)
    scale = params.chroma_scale * params.saturation
    target_ab = np.asarray(params.target_ab)
    transferred_ab = (balanced[..., 1:] - target_ab) * scale + np.asarray(params.reference_ab)
    if params.skin_protect > 0.0:
        # Skin keeps its white-balanced colour (only the cast moves), not the look's chroma change.
        keep = (params.skin_protect * skin_weight(balanced))[..., None]
        cast_only = balanced[..., 1:] + (np.asarray(params.reference_ab) - target_ab)
        transferred_ab = transferred_ab * (1.0 - keep) + cast_only * keep
    graded = np.concatenate([lightness[..., None], transferred_ab], axis=-1)
    mixed = original + params.strength * (graded - original)
    return np.maximum(colour_math.oklab_to_linear(mixed), 0.0)


def peak_level(params: GradeParams) -> float:
    """The brightest linear level the grade produces (>= 1 means highlights need the roll-off)."""
    return float(_graded_linear(_PEAK_PROBES, params).max())


def apply(encoded: np.ndarray, params: GradeParams) -> np.ndarray:
    """Grade (..., 3) sRGB code values in [0, 1]; returns code values in [0, 1] (float64)."""
    linear = _graded_linear(np.asarray(encoded, dtype=np.float64), params)
    return colour_math.encode_srgb(soft_clip(linear, params.highlight_knee, peak_level(params)))


def render(image: np.ndarray, params: GradeParams) -> np.ndarray:
    """The service's own graded frame: uint8 RGB in, uint8 RGB out (direct evaluation)."""
    graded = apply(colour_math.to_float(image), params)
    return np.asarray(np.clip(np.rint(graded * 255.0), 0, 255).astype(np.uint8))
