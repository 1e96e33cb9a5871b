"""Estimate a grade that brings a shot to a reference look, and score it.

Two stages, each from robust statistics (rushes_grading.stats):

1. balance (linear light): the per-channel ratio of trimmed means gives the exposure (its
   luminance part, in stops) and the white balance (the rest, as gains) — a von Kries style
   correction that exactly undoes a camera's gain, exposure or white-balance error;
2. look (Oklab, "look" mode only): the lightness percentiles of the balanced shot are mapped
   onto the reference's (tone / histogram matching with bounded slopes), and the chroma
   distribution is moved and scaled onto the reference's (Reinhard-style transfer in a
   perceptual space), with skin protected.

"continuity" mode stops after stage 1: shots of a scene are balanced toward a hero shot without
restyling them. The confidence comes from the predicted error: CIEDE2000 between the graded
shot's representative colours and the reference's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np

from rushes_grading import colour_math, stats, transform
from rushes_grading.confidence import confidence_from_delta_e
from rushes_grading.presets import GradingPreset
from rushes_grading.stats import LookStats
from rushes_grading.transform import GradeParams

Mode = Literal["look", "continuity"]
MODES: Final = ("look", "continuity")
LINEAR_LUMA: Final = np.array([0.2126, 0.7152, 0.0722])  # Rec.709 luminance of linear RGB
MIN_KNOT_GAP: Final = 0.01  # Oklab L: closer percentiles carry no tone information


@dataclass(frozen=True)
class Grade:
    """One shot's grade and how good it is expected to be."""

    params: GradeParams
    predicted_delta_e: float  # graded statistics vs the reference's (CIEDE2000)
    delta_e_before: float  # ungraded statistics vs the reference's
    confidence: float
    needs_review: bool
    reasons: tuple[str, ...]
    before: LookStats
    after: LookStats


def balance_params(
    target: LookStats, reference: LookStats
) -> tuple[float, tuple[float, float, float], list[str]]:
    """(exposure stops, white-balance gains, reasons) from the trimmed linear means."""
    reasons: list[str] = []
    ratio = np.asarray(reference.linear_mean) / np.maximum(np.asarray(target.linear_mean), 1e-6)
    luminance_ratio = float(LINEAR_LUMA @ np.asarray(reference.linear_mean)) / max(
        float(LINEAR_LUMA @ np.asarray(target.linear_mean)), 1e-6
    )
    exposure = float(np.log2(max(luminance_ratio, 1e-6)))
    limit = transform.MAX_EXPOSURE_STOPS
    if abs(exposure) > limit:
        reasons.append(f"clamped:exposure={exposure:+.2f}EV")
        exposure = float(np.clip(exposure, -limit, limit))
    gains = ratio / 2.0**exposure
    clamped = np.clip(gains, transform.MIN_GAIN, transform.MAX_GAIN)
    if not np.allclose(clamped, gains):
        reasons.append("clamped:wb_gains")
    return exposure, (float(clamped[0]), float(clamped[1]), float(clamped[2])), reasons


def tone_knots(
    target: tuple[float, ...], reference: tuple[float, ...], preset: GradingPreset
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Increasing knots target L -> reference L, built outward from the median with bounded slopes."""
    pairs: list[tuple[float, float]] = []
    for t, r in zip(target, reference, strict=True):
        wanted = t + preset.tone_strength * (r - t)
        if not pairs or t - pairs[-1][0] >= MIN_KNOT_GAP:
            pairs.append((t, wanted))
    if len(pairs) < 2:
        return (), ()
    xs = np.array([p[0] for p in pairs])
    ys = np.array([p[1] for p in pairs])
    middle = len(xs) // 2
    low, high = 1.0 / preset.max_tone_slope, preset.max_tone_slope
    for i in range(middle + 1, len(xs)):
        ys[i] = ys[i - 1] + np.clip((ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1]), low, high) * (
            xs[i] - xs[i - 1]
        )
    for i in range(middle - 1, -1, -1):
        ys[i] = ys[i + 1] - np.clip((ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]), low, high) * (
            xs[i + 1] - xs[i]
        )
    ys = np.clip(ys, 0.0, 1.0)
    return tuple(float(x) for x in xs), tuple(float(y) for y in ys)


def estimate(
    target_pixels: np.ndarray, target: LookStats, reference: LookStats, preset: GradingPreset, mode: Mode
) -> GradeParams:
    """The grade parameters for a shot (pixels: (N, 3) code values) toward `reference`."""
    exposure, gains, reasons = balance_params(target, reference)
    params = GradeParams(
        exposure_stops=exposure,
        wb_gains=gains,
        skin_protect=preset.skin_protect,
        highlight_knee=preset.highlight_knee,
    )
    reasons += [f"exposure={exposure:+.2f}EV", "wb_gains=" + "/".join(f"{g:.3f}" for g in gains)]
    if mode == "continuity":
        return replace(params, reasons=(*reasons, "mode=continuity")).validated()
    balanced_linear = transform.balance(target_pixels, params)
    balanced = stats.measure(colour_math.encode_srgb(np.clip(balanced_linear, 0.0, 1.0)))
    tone_in, tone_out = tone_knots(balanced.tone, reference.tone, preset)
    if balanced.is_monochrome:
        scale = 1.0  # nothing to scale: a grade cannot invent colour the shot does not have
        reasons.append("target_monochrome")
    else:
        raw = reference.chroma_spread / balanced.chroma_spread
        scale = float(np.clip(raw, 1.0 / preset.max_chroma_scale, preset.max_chroma_scale))
        if scale != raw:
            reasons.append(f"clamped:chroma_scale={raw:.2f}")
    if reference.is_monochrome:
        reasons.append("reference_monochrome")
    if target.skin_fraction > 0.05 and preset.skin_protect > 0:
        reasons.append(f"skin_protected={target.skin_fraction:.0%}")
    if target.clipped_fraction > 0.02:
        reasons.append(f"target_clipped={target.clipped_fraction:.0%}")
    return GradeParams(
        exposure_stops=exposure,
        wb_gains=gains,
        tone_in=tone_in,
        tone_out=tone_out,
        target_ab=balanced.ab_mean,
        reference_ab=reference.ab_mean,
        chroma_scale=scale,
        skin_protect=preset.skin_protect,
        highlight_knee=preset.highlight_knee,
        reasons=(*reasons, "mode=look"),
    ).validated()


def score(
    target_pixels: np.ndarray,
    before: LookStats,
    reference: LookStats,
    params: GradeParams,
    preset: GradingPreset,
) -> Grade:
    """Predict how close `params` brings the shot to the reference, and what that means."""
    graded = transform.apply(target_pixels, params)
    after = stats.measure(graded)
    predicted = stats.match_error(after, reference)
    initial = stats.match_error(before, reference)
    confidence = confidence_from_delta_e(predicted, preset.half_confidence_delta_e)
    needs_review = confidence < preset.review_below
    reasons = (
        *params.reasons,
        f"predicted_delta_e={predicted:.2f}",
        f"delta_e_before={initial:.2f}",
        *(("below_review_threshold",) if needs_review else ()),
    )
    return Grade(
        params=params,
        predicted_delta_e=predicted,
        delta_e_before=initial,
        confidence=confidence,
        needs_review=needs_review,
        reasons=reasons,
        before=before,
        after=after,
    )


def match(
    target_pixels: np.ndarray, reference: LookStats, preset: GradingPreset, mode: Mode = "look"
) -> Grade:
    """Estimate and score the grade of one shot toward `reference`."""
    before = stats.measure(target_pixels)
    params = estimate(target_pixels, before, reference, preset, mode)
    return score(target_pixels, before, reference, params, preset)


def hero_index(shots: list[LookStats]) -> int:
    """The shot most like all the others (the medoid): the least disruptive one to match toward."""
    if not shots:
        raise ValueError("no shots to choose a hero from")
    totals = [sum(stats.match_error(a, b) for b in shots) for a in shots]
    return int(np.argmin(totals))


def continuity_steps(before: list[LookStats], after: list[LookStats]) -> list[tuple[float, float]]:
    """CIEDE2000 between consecutive shots, (before grading, after grading), one per cut."""
    return [
        (stats.match_error(before[i], before[i + 1]), stats.match_error(after[i], after[i + 1]))
        for i in range(len(before) - 1)
    ]
