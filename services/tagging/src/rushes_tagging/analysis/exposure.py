"""Exposure from the luma histogram: mean level, clipped highlights, crushed blacks, a verdict.

A shot's histogram is the average of its sampled frames' normalised histograms, so one bright
flash frame does not decide a ten-second shot.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .config import AnalysisConfig
from .decision import Decision, Evidence, margin_confidence, rounded

MODEL = "rushes.exposure"
LEVELS = np.arange(256, dtype=np.float64) / 255.0


def luma_histogram(gray: np.ndarray) -> np.ndarray:
    """Normalised 256-bin histogram (sums to 1) of an 8-bit grey frame."""
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    return hist / max(1.0, hist.sum())


@dataclass(frozen=True)
class LumaStats:
    """Statistics of a normalised luma histogram; levels as fractions of full scale."""

    mean: float
    std: float
    clipped: float
    crushed: float
    p01: float
    p05: float
    p50: float
    p95: float
    p99: float
    dark_share: float  # below a quarter of full scale
    bright_share: float  # above three quarters of full scale

    @classmethod
    def from_histogram(cls, hist: np.ndarray, config: AnalysisConfig) -> LumaStats:
        mean = float((hist * LEVELS).sum())
        std = float(np.sqrt(max(0.0, (hist * (LEVELS - mean) ** 2).sum())))
        cdf = np.cumsum(hist)

        def percentile(q: float) -> float:
            return float(np.searchsorted(cdf, q * cdf[-1])) / 255.0

        return cls(
            mean=mean,
            std=std,
            clipped=float(hist[config.clip_level :].sum()),
            crushed=float(hist[: config.crush_level + 1].sum()),
            p01=percentile(0.01),
            p05=percentile(0.05),
            p50=percentile(0.5),
            p95=percentile(0.95),
            p99=percentile(0.99),
            dark_share=float(hist[:64].sum()),
            bright_share=float(hist[192:].sum()),
        )


def decide_exposure(stats: LumaStats, config: AnalysisConfig, *, sampled_frames: int) -> Decision:
    """under / ok / over with the measurements. Confidence grows with the distance from the nearest
    threshold; it stays below 0.95 because a low-key or high-key look can be intended."""
    evidence = Evidence()
    evidence.measure("mean_luma", stats.mean)
    evidence.add(f"clipped_highlights={stats.clipped * 100:.1f}%")
    evidence.add(f"crushed_blacks={stats.crushed * 100:.1f}%")

    # Signed excess over each threshold, in units comparable to a tenth of full scale.
    over_excess = max(
        stats.mean - config.over_mean_luma, (stats.clipped - config.over_clipped_fraction) * 2.0
    )
    under_excess = max(
        config.under_mean_luma - stats.mean,
        (stats.crushed - config.under_crushed_fraction) * 2.0 if stats.mean < 0.4 else -1.0,
    )
    if over_excess >= 0 and over_excess >= under_excess:
        verdict, margin = "over", over_excess
        evidence.add("rule:over")
    elif under_excess >= 0:
        verdict, margin = "under", under_excess
        evidence.add("rule:under")
    else:
        verdict, margin = "ok", min(-over_excess, -under_excess)
    if over_excess >= 0 and under_excess >= 0:
        evidence.add("both_ends_clipped")  # harsh contrast: over and under at once
        margin = min(margin, 0.02)
    confidence = margin_confidence(margin, 0.1, floor=0.55, ceiling=0.95)
    if sampled_frames < 2:
        evidence.add("single_sample")
        confidence = min(confidence, 0.8)
    return Decision(
        value={
            "verdict": verdict,
            "mean_luma": rounded(stats.mean),
            "clipped_highlights_pct": rounded(stats.clipped * 100, 2),
            "crushed_blacks_pct": rounded(stats.crushed * 100, 2),
        },
        confidence=confidence,
        reasons=evidence.tags,
        model=MODEL,
    )


def exposure_quality(stats: LumaStats) -> float:
    """How well exposed one frame looks (0..1), for choosing a keyframe: mid-tones, little clipping."""
    centred = float(np.exp(-(((stats.mean - 0.45) / 0.25) ** 2)))
    return max(0.0, centred * (1.0 - stats.clipped - stats.crushed))
