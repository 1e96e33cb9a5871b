"""Everything measured on one sampled frame, computed once and shared by the decisions."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import cues, graphics, noise, sharpness, shot_type, white_balance
from .config import AnalysisConfig
from .exposure import LumaStats, exposure_quality, luma_histogram


@dataclass(frozen=True)
class FrameFeatures:
    frame_index: int
    histogram: np.ndarray
    luma: LumaStats
    blur: float
    laplacian_var: float
    noise_sigma: float
    noise_measured_fraction: float
    illuminant: white_balance.FrameIlluminant | None
    graphic: float
    text_lines: int
    colour_bars: bool
    black: bool
    slate: float
    detail_grid: np.ndarray
    keyframe_score: float


def measure_frame(
    frame_index: int, frame_bgr: np.ndarray, gray: np.ndarray, config: AnalysisConfig
) -> FrameFeatures:
    histogram = luma_histogram(gray)
    luma = LumaStats.from_histogram(histogram, config)
    black = cues.is_black_frame(luma, config)
    signed_laplacian = cv2.Laplacian(gray, cv2.CV_16S, ksize=1)
    laplacian = np.abs(signed_laplacian)
    blur = sharpness.blur_index(gray)
    sigma, measured = noise.noise_sigma(gray, config)
    flat = graphics.flat_fraction(laplacian)
    lines = graphics.text_lines(gray)
    coverage = graphics.top_colour_coverage(frame_bgr)
    return FrameFeatures(
        frame_index=frame_index,
        histogram=histogram,
        luma=luma,
        blur=blur,
        laplacian_var=sharpness.laplacian_variance(signed_laplacian),
        noise_sigma=sigma,
        noise_measured_fraction=measured,
        illuminant=None if black else white_balance.estimate_frame_illuminant(frame_bgr, config),
        graphic=1.0
        if black
        else graphics.graphic_score(flat, coverage, len(lines), config.graphic_min_flat_fraction),
        text_lines=len(lines),
        colour_bars=False if black else cues.has_colour_bars(frame_bgr),
        black=black,
        slate=0.0 if black else cues.slate_score(gray, lines),
        detail_grid=shot_type.detail_grid(laplacian),
        keyframe_score=0.0 if black else (1.0 - blur) * exposure_quality(luma),
    )
