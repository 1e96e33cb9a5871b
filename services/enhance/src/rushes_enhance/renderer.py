"""Render one fix of one clip into a local MP4, streaming, with its parameters and measurements.

Pure media work (no storage, no events): the job downloads the proxy, calls `render`, uploads the
file and publishes what RenderResult describes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from rushes_config import MediaLimits

from rushes_enhance import denoise, stabilize, upscale
from rushes_enhance.fixes import EnhanceRequestError, Fix
from rushes_enhance.settings import EnhanceSettings
from rushes_enhance.shots import ShotPlan
from rushes_enhance.video import RenditionWriter, SourceFrame, SourceInfo, read_frames, source_info

NOISE_SAMPLE_FRAMES = 24
STABILIZE_MODEL = "opencv-lk-similarity"


@dataclass(frozen=True)
class LearnedUpscaler:
    """The model's frame call plus what the rendition must say about it."""

    upscale: upscale.FrameUpscaler
    model_name: str
    model_version: str
    max_pixels: int


@dataclass
class RenderResult:
    fix: Fix
    frames: int
    width: int
    height: int
    parameters: dict[str, Any]
    measurements: dict[str, float]
    model_name: str
    model_version: str
    reasons: list[str] = field(default_factory=list)
    confidence: float = 1.0
    scale: float = 1.0
    crop_fraction: float = 0.0


def check_request(fix: Fix, info: SourceInfo, settings: EnhanceSettings) -> None:
    """Refuse work over the configured limits before decoding a frame (EnhanceRequestError)."""
    if info.width * info.height > settings.max_source_pixels:
        raise EnhanceRequestError(
            f"source is {info.width}x{info.height}; enhance accepts at most {settings.max_source_pixels} "
            "pixels per frame (RUSHES_ENHANCE_MAX_SOURCE_PIXELS)"
        )
    if info.frame_count > settings.max_frames:
        raise EnhanceRequestError(
            f"source has {info.frame_count} frames; a rendition covers at most {settings.max_frames} "
            "(RUSHES_ENHANCE_MAX_FRAMES)"
        )
    if fix == "upscale":
        factor = settings.upscale_factor
        out_pixels = info.width * info.height * factor * factor
        if out_pixels > settings.max_output_pixels:
            raise EnhanceRequestError(
                f"a {factor}x upscale of {info.width}x{info.height} gives {info.width * factor}x"
                f"{info.height * factor}, over the {settings.max_output_pixels}-pixel limit "
                "(RUSHES_ENHANCE_MAX_OUTPUT_PIXELS)"
            )


def render(
    fix: Fix,
    source: Path,
    out_path: Path,
    plan: ShotPlan,
    settings: EnhanceSettings,
    limits: MediaLimits,
    *,
    learned: LearnedUpscaler | None = None,
    fallback_reason: str = "",
) -> RenderResult:
    info = source_info(source, limits)
    check_request(fix, info, settings)
    if fix == "stabilize":
        return _stabilize(source, out_path, plan, info, settings, limits)
    if fix == "denoise":
        return _denoise(source, out_path, plan, info, settings, limits)
    return _upscale(source, out_path, plan, info, settings, limits, learned, fallback_reason)


def _frames(source: Path, limits: MediaLimits, settings: EnhanceSettings) -> Iterator[SourceFrame]:
    return read_frames(source, limits, max_frames=settings.max_frames)


def _stabilize(
    source: Path,
    out_path: Path,
    plan: ShotPlan,
    info: SourceInfo,
    settings: EnhanceSettings,
    limits: MediaLimits,
) -> RenderResult:
    tracker = stabilize.MotionTracker(settings.analysis_max_side)
    covered: list[bool] = []
    plan.reset()
    for frame in _frames(source, limits, settings):
        place = plan.place(frame.time_s)
        tracker.push(frame.bgr, place.new_segment)
        covered.append(place.covered)
    mask = np.array(covered, bool)
    motions = tracker.as_array()
    stab = stabilize.plan_stabilization(
        motions, tracker.segment_starts, mask, width=info.width, height=info.height,
        radius=settings.smoothing_radius, max_crop=settings.max_crop,
    )  # fmt: skip
    output_tracker = stabilize.MotionTracker(settings.analysis_max_side)
    plan.reset()
    with RenditionWriter(out_path, info, width=info.width, height=info.height, crf=settings.crf) as writer:
        for frame in _frames(source, limits, settings):
            place = plan.place(frame.time_s)
            index = min(frame.index, len(stab.corrections) - 1)
            out = stabilize.warp(frame.bgr, stab.corrections[index], stab.zoom)
            output_tracker.push(out, place.new_segment)
            writer.write(out, frame.pts)
    jitter_in = tracker.jitter_px(mask)
    # The output is zoomed: its pixel motion is `zoom` times the source's. Report source pixels.
    jitter_out = output_tracker.jitter_px(mask[: len(output_tracker.motions)]) / stab.zoom
    tracked = tracker.tracked_pairs / tracker.pairs if tracker.pairs else 0.0
    reduction = 1.0 - jitter_out / jitter_in if jitter_in > 0 else 0.0
    reasons = ["camera_path_smoothed"]
    if stab.crop_limited:
        reasons.append(f"corrections_capped_at_max_crop_{settings.max_crop:g}")
    if tracked < 0.8:
        reasons.append(f"weak_tracking_{tracked:.2f}")
    return RenderResult(
        fix="stabilize",
        frames=writer.frames,
        width=writer.width,
        height=writer.height,
        parameters={
            "method": "lk_tracking_similarity_moving_average",
            "smoothing_radius": settings.smoothing_radius,
            "max_crop": settings.max_crop,
            "crop": round(stab.crop, 5),
            "zoom": round(stab.zoom, 5),
            "analysis_max_side": settings.analysis_max_side,
            "jitter_window": stabilize.JITTER_WINDOW,
        },
        measurements={
            "input_jitter_px": round(jitter_in, 4),
            "residual_jitter_px": round(jitter_out, 4),
            "jitter_reduction": round(reduction, 4),
            "tracked_fraction": round(tracked, 4),
            "max_correction_px": round(float(np.abs(stab.corrections[:, :2]).max(initial=0.0)), 3),
        },
        model_name=STABILIZE_MODEL,
        model_version=f"opencv-{cv2.__version__}",
        reasons=reasons,
        confidence=round(float(np.clip(0.5 * tracked + 0.5 * max(reduction, 0.0), 0.0, 1.0)), 4),
        scale=1.0,
        crop_fraction=round(stab.crop, 5),
    )


def _measure_noise(source: Path, plan: ShotPlan, info: SourceInfo, settings: EnhanceSettings,
                   limits: MediaLimits) -> float:  # fmt: skip
    step = max(1, info.frame_count // NOISE_SAMPLE_FRAMES) if info.frame_count else 1
    sigmas: list[float] = []
    plan.reset()
    for frame in _frames(source, limits, settings):
        place = plan.place(frame.time_s)
        if place.covered and frame.index % step == 0:
            sigmas.append(denoise.estimate_noise_sigma(frame.bgr))
    return float(np.median(sigmas)) if sigmas else 0.0


def _denoise(
    source: Path,
    out_path: Path,
    plan: ShotPlan,
    info: SourceInfo,
    settings: EnhanceSettings,
    limits: MediaLimits,
) -> RenderResult:
    sigma = _measure_noise(source, plan, info, settings, limits)
    strength = denoise.DenoiseStrength.from_sigma(sigma, settings.temporal_radius)
    step = max(1, info.frame_count // NOISE_SAMPLE_FRAMES) if info.frame_count else 1
    after: list[float] = []
    plan.reset()

    def items() -> Iterator[tuple[SourceFrame, np.ndarray, bool, bool]]:
        for frame in _frames(source, limits, settings):
            place = plan.place(frame.time_s)
            yield frame, frame.bgr, place.covered, place.new_segment

    with RenditionWriter(out_path, info, width=info.width, height=info.height, crf=settings.crf) as writer:
        for frame, out in denoise.denoise_stream(items(), strength):
            if frame.index % step == 0 and out is not frame.bgr:
                after.append(denoise.estimate_noise_sigma(out))
            writer.write(out, frame.pts)
    sigma_after = float(np.median(after)) if after else sigma
    reduction = 1.0 - sigma_after / sigma if sigma > 0 else 0.0
    reasons = [f"noise_sigma_{sigma:.2f}"]
    if sigma < 1.0:
        reasons.append("little_noise_measured")
    return RenderResult(
        fix="denoise",
        frames=writer.frames,
        width=writer.width,
        height=writer.height,
        parameters={
            "method": "motion_adaptive_temporal+nlm",
            "temporal_radius": strength.radius,
            "spatial_h": round(strength.spatial_h, 3),
            "nlm_template_window": 7,
            "nlm_search_window": 15,
            "noise_sigma": round(sigma, 3),
        },
        measurements={
            "noise_sigma_before": round(sigma, 4),
            "noise_sigma_after": round(sigma_after, 4),
            "noise_reduction": round(reduction, 4),
        },
        model_name="opencv-temporal-nlm",
        model_version=f"opencv-{cv2.__version__}",
        reasons=reasons,
        confidence=round(float(np.clip(0.5 + 0.5 * reduction, 0.0, 1.0)), 4) if sigma >= 1.0 else 0.5,
        scale=1.0,
        crop_fraction=0.0,
    )


def _upscale(
    source: Path,
    out_path: Path,
    plan: ShotPlan,
    info: SourceInfo,
    settings: EnhanceSettings,
    limits: MediaLimits,
    learned: LearnedUpscaler | None,
    fallback_reason: str,
) -> RenderResult:
    factor = settings.upscale_factor
    reasons: list[str] = []
    if learned is not None and info.width * info.height > learned.max_pixels:
        reasons.append(
            f"classical_fallback: frame {info.width}x{info.height} is over the learned model's cap of "
            f"{learned.max_pixels} pixels on this deployment (RUSHES_ENHANCE_UPSCALE_MODEL_MAX_PIXELS)"
        )
        learned = None
    elif learned is None:
        reasons.append(f"classical_fallback: {fallback_reason or 'learned model not configured'}")
    else:
        reasons.append("learned_super_resolution")
    plan.reset()
    width, height = info.width * factor, info.height * factor
    sharpness_in: list[float] = []
    sharpness_out: list[float] = []
    with RenditionWriter(out_path, info, width=width, height=height, crf=settings.crf) as writer:
        for frame in _frames(source, limits, settings):
            place = plan.place(frame.time_s)
            if not place.covered:
                out = upscale.plain_resize(frame.bgr, factor)
            elif learned is not None:
                out = learned.upscale(frame.bgr)
                if out.shape[:2] != (height, width):
                    raise ValueError(
                        f"model returned {out.shape[1]}x{out.shape[0]}, expected {width}x{height}"
                    )
            else:
                out = upscale.classical_upscale(frame.bgr, factor)
            if frame.index % 8 == 0 and place.covered:
                sharpness_in.append(_edge_energy(upscale.plain_resize(frame.bgr, factor)))
                sharpness_out.append(_edge_energy(out))
            writer.write(out, frame.pts)
    gain = (float(np.mean(sharpness_out)) / float(np.mean(sharpness_in))) if sharpness_in else 1.0
    if learned is not None:
        parameters: dict[str, Any] = {"method": "learned", "factor": factor, "model": learned.model_name}
        model_name, model_version, confidence = learned.model_name, learned.model_version, 0.8
    else:
        parameters = dict(upscale.classical_parameters(factor))
        model_name, model_version, confidence = upscale.CLASSICAL_MODEL, upscale.CLASSICAL_VERSION, 0.5
    return RenderResult(
        fix="upscale",
        frames=writer.frames,
        width=writer.width,
        height=writer.height,
        parameters=parameters,
        measurements={
            "input_width": float(info.width),
            "input_height": float(info.height),
            "output_width": float(writer.width),
            "output_height": float(writer.height),
            "edge_energy_gain_vs_lanczos": round(gain, 4) if math.isfinite(gain) else 0.0,
        },
        model_name=model_name,
        model_version=model_version,
        reasons=reasons,
        confidence=confidence,
        scale=float(factor),
        crop_fraction=0.0,
    )


def _edge_energy(bgr: np.ndarray) -> float:
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())
