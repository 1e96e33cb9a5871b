"""Camera motion between consecutive frames, and how much of it is shake.

Each pair of frames is shrunk with a Gaussian pyramid (anti-aliased: box-filter downscaling makes
fine detail alias, which is not a shift and fools any sub-pixel estimator), registered coarsely by
phase correlation (robust to large shifts) and refined by two Lucas-Kanade steps for the whole
frame (OpenCV's phase-correlation sub-pixel peak is biased towards whole pixels). The camera path
is the running sum of the shifts; what a Gaussian of `shake_smoothing_s` cannot follow is jitter,
so a steady pan of any speed is not shake (nor, through a second, median-based model of the
intended move, are the pan's own starts and stops). Subject motion is what remains after
compensating the camera's shift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .config import AnalysisConfig
from .decision import Decision, Evidence, clamp01, margin_confidence, rounded

MODEL = "rushes.shakiness"
MIN_TEXTURE = 1e-3  # smallest eigenvalue of the gradient matrix, per pixel, for a trustworthy shift
MARGIN = 4  # pixels at the motion scale ignored at the borders (shifted-in content)


def pyramid_levels(width: int, max_width: int) -> int:
    levels = 0
    while width > max_width and width >= 64:
        width = (width + 1) // 2
        levels += 1
    return levels


def shrink(gray: np.ndarray, levels: int) -> np.ndarray:
    small = gray
    for _ in range(levels):
        small = cv2.pyrDown(small)
    height, width = small.shape
    # Even sizes: OpenCV's phase correlation is off by half a pixel on odd sizes.
    return small[: height // 2 * 2, : width // 2 * 2].astype(np.float32)


def _shifted(image: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    matrix = np.array([[1.0, 0.0, shift[0]], [0.0, 1.0, shift[1]]], dtype=np.float32)
    height, width = image.shape
    return cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


@dataclass(frozen=True)
class PairMotion:
    """How the content moved from one frame to the next (content shift, analysis-frame pixels)."""

    dx: float
    dy: float
    reliable: bool
    raw_energy: float  # mean |difference| / 255, camera motion included
    residual_energy: float  # the same after compensating the global shift: subject motion


@dataclass(frozen=True)
class MotionFrame:
    """One frame at the motion scale with what registering against it needs, computed once."""

    image: np.ndarray  # float32
    gx: np.ndarray  # horizontal gradient inside the margin, flattened
    gy: np.ndarray
    gxx: float
    gxy: float
    gyy: float
    textured: bool  # enough texture in two directions to pin a shift down


def prepare_frame(gray: np.ndarray, levels: int) -> MotionFrame:
    image = shrink(gray, levels)
    inner = (slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))
    gx = np.ascontiguousarray(cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)[inner]).ravel() / 8.0
    gy = np.ascontiguousarray(cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)[inner]).ravel() / 8.0
    gxx, gxy, gyy = float(gx @ gx), float(gx @ gy), float(gy @ gy)
    trace, det = gxx + gyy, gxx * gyy - gxy * gxy
    smallest_eigen = trace / 2 - math.sqrt(max(0.0, trace * trace / 4 - det))
    return MotionFrame(image, gx, gy, gxx, gxy, gyy, smallest_eigen >= MIN_TEXTURE * gx.size * 255.0)


def register_pair(
    prev: MotionFrame, cur: MotionFrame, window: np.ndarray, min_response: float
) -> tuple[float, float, bool, np.ndarray]:
    """(dx, dy, reliable, prev aligned onto cur) at the motion scale: cur(x) ~ prev(x - shift).

    The Lucas-Kanade steps use the current frame's gradients (computed once per frame) in place
    of the warped previous frame's: at the sub-pixel misalignments left by phase correlation
    they are the same to first order, and it halves the cost."""
    (dx, dy), response = cv2.phaseCorrelate(prev.image, cur.image, window)
    shift = (float(dx), float(dy))
    aligned = _shifted(prev.image, shift)
    reliable = response >= min_response and cur.textured
    if not cur.textured:
        return shift[0], shift[1], False, aligned
    det = cur.gxx * cur.gyy - cur.gxy * cur.gxy
    inner = (slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))
    for _ in range(2):
        residual = np.ascontiguousarray((cur.image - aligned)[inner]).ravel()
        bx, by = -float(cur.gx @ residual), -float(cur.gy @ residual)
        step = ((cur.gyy * bx - cur.gxy * by) / det, (cur.gxx * by - cur.gxy * bx) / det)
        if math.hypot(*step) > 1.5:  # Lucas-Kanade diverging: keep the phase-correlation answer
            break
        shift = (shift[0] + step[0], shift[1] + step[1])
        aligned = _shifted(prev.image, shift)
    return shift[0], shift[1], bool(reliable), aligned


class MotionTracker:
    """Fed every frame of a shot in order; keeps one small frame and per-pair numbers."""

    def __init__(self, config: AnalysisConfig) -> None:
        self._config = config
        self._levels: int | None = None
        self._window: np.ndarray | None = None
        self._prev: MotionFrame | None = None
        self.pairs: list[PairMotion] = []

    def push(self, gray: np.ndarray) -> None:
        if self._levels is None:
            self._levels = pyramid_levels(gray.shape[1], self._config.motion_width)
        cur = prepare_frame(gray, self._levels)
        if self._window is None:
            self._window = cv2.createHanningWindow((cur.image.shape[1], cur.image.shape[0]), cv2.CV_32F)
        if self._prev is not None:
            dx, dy, reliable, aligned = register_pair(
                self._prev, cur, self._window, self._config.min_phase_response
            )
            inner = (slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))
            raw = float(cv2.absdiff(cur.image, self._prev.image)[inner].mean()) / 255.0
            residual = float(cv2.absdiff(cur.image, aligned)[inner].mean()) / 255.0 if reliable else raw
            scale = float(2**self._levels)
            self.pairs.append(PairMotion(dx * scale, dy * scale, reliable, raw, residual))
        self._prev = cur


@dataclass(frozen=True)
class MotionSummary:
    pairs: int
    reliable_fraction: float
    jitter_px: float  # RMS of the high-passed camera path, analysis-frame pixels
    jitter_pct: float  # the same in % of the frame width
    camera_speed_pct_per_s: float  # mean speed of the smoothed path, % of the width per second
    subject_motion: float  # mean residual energy (fraction of full scale)
    raw_motion: float  # mean frame difference, camera motion included
    path_model: str = "none"  # which model of the intended camera move explained it best


def smooth_path(path: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian smoothing that keeps straight lines straight at the ends (odd reflection), so the
    first and last frames of a steady pan do not read as jitter."""
    radius = max(1, math.ceil(3 * sigma_frames))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / max(sigma_frames, 1e-6)) ** 2)
    taps /= taps.sum()
    padded = (
        np.pad(path, radius, mode="reflect", reflect_type="odd")
        if len(path) > 1
        else np.repeat(path, 2 * radius + 1)
    )
    return np.convolve(padded, taps, mode="valid")


def running_median(values: np.ndarray, window: int) -> np.ndarray:
    """Median of each row's neighbourhood (`window` rows, shrinking at the ends), per column."""
    half = window // 2
    padded = np.pad(values.astype(np.float64), ((half, half), (0, 0)), constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)  # [rows, cols, window]
    return np.nanmedian(windows, axis=-1)


def summarise_motion(
    pairs: list[PairMotion], *, fps: float, frame_width: int, config: AnalysisConfig
) -> MotionSummary:
    if not pairs:
        return MotionSummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    reliable = np.array([p.reliable for p in pairs])
    velocity = np.array([[p.dx, p.dy] for p in pairs], dtype=np.float64)
    if reliable.any():
        index = np.arange(len(pairs))
        for axis in range(2):  # untrusted pairs take their neighbours' velocity, not zero
            velocity[:, axis] = np.interp(index, index[reliable], velocity[reliable, axis])
    else:
        velocity[:] = 0.0
    path = np.vstack([np.zeros((1, 2)), np.cumsum(velocity, axis=0)])
    sigma_frames = config.shake_smoothing_s * fps
    gaussian = np.stack([smooth_path(path[:, axis], sigma_frames) for axis in range(2)], axis=1)
    # A second model of the intended move: the running median of the velocity keeps a pan's
    # start and stop sharp (a Gaussian rounds the corner and reads it as jitter), and what it
    # lets through slowly is high-passed as before. The median is noisier on pure shake, so the
    # model that leaves less residual is the better description of what the operator meant.
    intended_velocity = running_median(velocity, max(3, round(2 * sigma_frames) | 1))
    intended = np.vstack([np.zeros((1, 2)), np.cumsum(intended_velocity, axis=0)])
    remainder = path - intended
    drift = np.stack([smooth_path(remainder[:, axis], sigma_frames) for axis in range(2)], axis=1)
    candidates = {"gaussian": gaussian, "median_velocity": intended + drift}
    residuals = {
        name: float(np.sqrt(np.mean(np.sum((path - smooth) ** 2, axis=1))))
        for name, smooth in candidates.items()
    }
    model = min(residuals, key=residuals.__getitem__)
    jitter, smooth = residuals[model], candidates[model]
    speed = np.hypot(*np.diff(smooth, axis=0).T) if len(smooth) > 1 else np.zeros(1)
    return MotionSummary(
        pairs=len(pairs),
        reliable_fraction=float(reliable.mean()),
        jitter_px=jitter,
        jitter_pct=100.0 * jitter / frame_width,
        camera_speed_pct_per_s=100.0 * float(speed.mean()) * fps / frame_width,
        subject_motion=float(np.mean([p.residual_energy for p in pairs])),
        raw_motion=float(np.mean([p.raw_energy for p in pairs])),
        path_model=model,
    )


def decide_shakiness(motion: MotionSummary, *, fps: float, config: AnalysisConfig) -> Decision:
    evidence = Evidence()
    evidence.add(f"jitter_rms={motion.jitter_pct:.3f}%_of_width")
    evidence.add(f"pan_speed={motion.camera_speed_pct_per_s:.1f}%_width_per_s")
    evidence.add("method:phase_correlation+lucas_kanade,highpass")
    evidence.add(f"intended_path:{motion.path_model}")
    threshold = config.stabilization_jitter_pct
    verdict = "shaky" if motion.jitter_pct > threshold else "steady"
    confidence = margin_confidence(
        (motion.jitter_pct - threshold) / max(threshold, 1e-3), 0.6, floor=0.5, ceiling=0.9
    )
    # Jitter needs a few smoothing widths of frames to separate from a pan.
    span = motion.pairs / max(1.0, config.shake_smoothing_s * fps * 4)
    if span < 1.0:
        evidence.add(f"short_shot:{motion.pairs}_pairs")
        confidence *= 0.5 + 0.5 * clamp01(span)
    if motion.reliable_fraction < 0.7:
        evidence.add(f"reliable_pairs={motion.reliable_fraction * 100:.0f}%")
        confidence *= 0.4 + 0.6 * motion.reliable_fraction
    return Decision(
        value={
            "verdict": verdict,
            "jitter_pct": rounded(motion.jitter_pct),
            "jitter_px": rounded(motion.jitter_px, 3),
            "pan_speed_pct_per_s": rounded(motion.camera_speed_pct_per_s, 2),
        },
        confidence=round(confidence, 3),
        reasons=evidence.tags,
        model=MODEL,
    )
