"""Every threshold the shot analyzers use, in one validated place (presets map onto it).

Units: luma levels are 8-bit code values of the decoded (full-range) frame or fractions of full
scale where named `_fraction`/`_luma`; sizes and jitter are relative to the analysis frame (the
small frame the caller pushes, e.g. 480 px wide) unless named otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


class AnalysisConfigError(ValueError):
    """A threshold is out of range or inconsistent with another one."""


@dataclass(frozen=True)
class AnalysisConfig:
    # --- sampling ------------------------------------------------------------------------------
    stats_every_n_frames: int = 12
    """Full per-frame statistics (exposure, colour, sharpness, noise, cues) run on every Nth pushed
    frame of a shot (and always on its first); motion runs on every consecutive pair. 12 at 24-30
    fps is 2-2.5 samples a second: enough for shot-level averages, and it keeps the analyzers at
    about 0.9 ms a 480x270 frame (6: about 1.4 ms). These are also the frames worth running face
    detection on."""
    motion_width: int = 160
    """Width the grey frame is shrunk to for phase correlation. Sub-pixel phase correlation at
    160 px resolves camera jitter of about 0.05% of the frame width; wider only costs time."""
    keyframe_edge_guard_frames: int = 3
    """Frames at the start of a shot that cannot be the keyframe while later ones exist (a dissolve
    or a cut's first frame is rarely representative)."""
    max_frame_pixels: int = 1920 * 1080
    """Largest analysis frame accepted: the analyzers are meant for small proxies (<= 480 px wide);
    a full-resolution frame is a wiring mistake that would silently cost 20x."""

    # --- exposure --------------------------------------------------------------------------------
    clip_level: int = 250
    """Luma code value at or above which a pixel counts as a clipped highlight."""
    crush_level: int = 5
    """Luma code value at or below which a pixel counts as a crushed black."""
    under_mean_luma: float = 0.22
    """Mean luma (fraction of full scale) at or below which a shot is under-exposed."""
    over_mean_luma: float = 0.72
    """Mean luma at or above which a shot is over-exposed."""
    over_clipped_fraction: float = 0.05
    """Share of clipped pixels at or above which a shot is over-exposed, whatever its mean."""
    under_crushed_fraction: float = 0.35
    """Share of crushed pixels at or above which a darkish shot (mean < 0.4) is under-exposed."""

    # --- white balance ---------------------------------------------------------------------------
    neutral_chroma_tolerance: float = 0.05
    """Max distance in rgb chromaticity (r, b) from the running illuminant estimate for a pixel to
    count as near-neutral in the gray-world refinement."""

    # --- sharpness -------------------------------------------------------------------------------
    soft_blur_threshold: float = 0.42
    """Crete-Roffet blur index (0 sharp .. 1 blurred) above which a shot is `soft`."""

    # --- shakiness -------------------------------------------------------------------------------
    shake_smoothing_s: float = 0.25
    """Gaussian sigma (seconds) of the intended camera path; what the path does faster than this is
    jitter (handheld shake is 2-10 Hz), slower is a deliberate pan/tilt."""
    stabilization_jitter_pct: float = 0.3
    """RMS jitter, in % of the frame width, above which a shot needs stabilization
    (0.3% = 1.4 px at 480 px wide, 5.8 px at 1920)."""
    min_phase_response: float = 0.05
    """Phase-correlation peak below which a frame pair's shift is not trusted (flat or changing
    content); such pairs count as no camera motion."""

    # --- noise -----------------------------------------------------------------------------------
    denoise_sigma: float = 2.5
    """Noise sigma (8-bit code values, measured on the analysis frame) above which a shot needs
    denoising. Shrinking a frame averages noise away: a 4x smaller proxy shows about 1/4 of the
    source's sigma, so this threshold belongs to the analysis width the service uses."""

    # --- upscale ---------------------------------------------------------------------------------
    delivery_short_side: int = 1080
    """Shorter side of the delivery format; a source below it needs upscaling."""

    # --- shot type -------------------------------------------------------------------------------
    min_face_score: float = 0.5
    """Face detections below this score are ignored."""
    min_face_frame_fraction: float = 0.3
    """Share of the evaluated frames that must show a face for framing to be judged from faces;
    otherwise the no-face fallback is used."""
    extreme_close_up_ratio: float = 0.55
    """Largest face height / frame height at or above which a shot is an extreme close-up.
    The ratios assume a detector box from brow to chin (Haar, YuNet), about 0.8 of a head."""
    close_up_ratio: float = 0.28
    """... at or above which (and below the previous) a shot is a close-up."""
    medium_ratio: float = 0.10
    """... a medium shot (waist/chest up)."""
    wide_ratio: float = 0.035
    """... a wide (full figure) shot; below it, an extreme wide shot."""

    # --- category --------------------------------------------------------------------------------
    interview_min_speech: float = 0.4
    """Share of the shot with speech at or above which speech supports an interview."""
    action_motion: float = 0.03
    """Mean subject motion (mean absolute frame difference after removing camera motion, fraction
    of full scale) at which a shot counts as fully `action`."""
    fast_camera_pct_per_s: float = 40.0
    """Camera speed (% of the frame width per second) at which camera motion alone reads as action."""
    graphic_min_flat_fraction: float = 0.6
    """Share of exactly flat pixels (zero Laplacian: computer-generated fills) at which a frame
    fully looks like a graphic; camera footage stays below about 0.3."""

    # --- pace --------------------------------------------------------------------------------------
    fast_shot_s: float = 1.5
    """Shots this short or shorter read as fast-paced."""
    slow_shot_s: float = 8.0
    """Shots this long or longer read as slow-paced."""

    # --- technical cues ----------------------------------------------------------------------------
    black_max_mean_luma: float = 0.08
    """A frame is black when its mean luma is at most this (covers video-range black, 16/255)..."""
    black_max_p99_luma: float = 0.16
    """... and 99% of its pixels are at most this (no title text on it)."""

    # --- dominant colours --------------------------------------------------------------------------
    dominant_colours: int = 5
    """k of the k-means and the most colours reported."""
    colour_merge_delta_e: float = 10.0
    """Cluster centres closer than this CIE76 delta E are one colour."""
    min_colour_fraction: float = 0.03
    """Colours covering less of the frame are not reported."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise AnalysisConfigError(f"AnalysisConfig.{f.name} must be a finite number, got {value!r}")
        _in_range(self, "stats_every_n_frames", 1, 1000, integer=True)
        _in_range(self, "motion_width", 32, 1920, integer=True)
        _in_range(self, "keyframe_edge_guard_frames", 0, 1000, integer=True)
        _in_range(self, "max_frame_pixels", 64 * 64, 8192 * 4320, integer=True)
        _in_range(self, "clip_level", 128, 255, integer=True)
        _in_range(self, "crush_level", 0, 127, integer=True)
        for name in ("under_mean_luma", "over_mean_luma", "over_clipped_fraction", "under_crushed_fraction"):
            _in_range(self, name, 0.0, 1.0)
        _ordered(self, "under_mean_luma", "over_mean_luma")
        _in_range(self, "neutral_chroma_tolerance", 0.001, 0.5)
        _in_range(self, "soft_blur_threshold", 0.0, 1.0)
        _in_range(self, "shake_smoothing_s", 0.02, 10.0)
        _in_range(self, "stabilization_jitter_pct", 0.0, 100.0)
        _in_range(self, "min_phase_response", 0.0, 1.0)
        _in_range(self, "denoise_sigma", 0.0, 255.0)
        _in_range(self, "delivery_short_side", 16, 16384, integer=True)
        _in_range(self, "min_face_score", 0.0, 1.0)
        _in_range(self, "min_face_frame_fraction", 0.0, 1.0)
        for name in ("extreme_close_up_ratio", "close_up_ratio", "medium_ratio", "wide_ratio"):
            _in_range(self, name, 0.001, 4.0)
        _ordered(self, "wide_ratio", "medium_ratio")
        _ordered(self, "medium_ratio", "close_up_ratio")
        _ordered(self, "close_up_ratio", "extreme_close_up_ratio")
        _in_range(self, "interview_min_speech", 0.0, 1.0)
        _in_range(self, "action_motion", 0.001, 1.0)
        _in_range(self, "fast_camera_pct_per_s", 0.1, 10000.0)
        _in_range(self, "graphic_min_flat_fraction", 0.31, 1.0)
        _in_range(self, "fast_shot_s", 0.0, 3600.0)
        _in_range(self, "slow_shot_s", 0.0, 3600.0)
        _ordered(self, "fast_shot_s", "slow_shot_s")
        _in_range(self, "black_max_mean_luma", 0.0, 1.0)
        _in_range(self, "black_max_p99_luma", 0.0, 1.0)
        _in_range(self, "dominant_colours", 1, 16, integer=True)
        _in_range(self, "colour_merge_delta_e", 0.0, 100.0)
        _in_range(self, "min_colour_fraction", 0.0, 1.0)


def _in_range(config: AnalysisConfig, name: str, low: float, high: float, *, integer: bool = False) -> None:
    value = getattr(config, name)
    if integer and not isinstance(value, int):
        raise AnalysisConfigError(f"AnalysisConfig.{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise AnalysisConfigError(f"AnalysisConfig.{name} must be in [{low}, {high}], got {value!r}")


def _ordered(config: AnalysisConfig, lower: str, higher: str) -> None:
    if not getattr(config, lower) < getattr(config, higher):
        raise AnalysisConfigError(
            f"AnalysisConfig.{lower} ({getattr(config, lower)}) must be below "
            f"AnalysisConfig.{higher} ({getattr(config, higher)})"
        )
