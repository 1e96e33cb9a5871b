"""Stabilization: camera path from feature tracking, smoothed per shot, crop/zoom to hide borders.

Pass 1 (`MotionTracker`) estimates the frame-to-frame similarity (dx, dy, rotation) from
Shi-Tomasi corners tracked by pyramidal Lucas-Kanade and fitted with RANSAC on small grey frames:
4 floats per frame are all that is kept. `plan_stabilization` integrates them into a camera path
per shot (never across a cut), smooths it with a moving average, and turns the difference into
per-frame corrections, capped so a fixed crop (`max_crop` per side) always hides the borders.
Pass 2 warps each frame (`warp`) and the same tracker measures the output: the residual jitter.

Jitter is the RMS of the camera path's high-frequency part (path minus its own short moving
average, JITTER_WINDOW frames each side), in source pixels: shake, not intended pans.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

JITTER_WINDOW = 4
MIN_TRACKED_POINTS = 8


def analysis_gray(bgr: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Grey frame scaled so its longest side is at most `max_side`, and that scale."""
    height, width = bgr.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return gray, scale


def estimate_motion(previous: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, bool]:
    """(dx, dy, angle) moving `previous`'s content onto `current`'s, and whether tracking held."""
    corners = cv2.goodFeaturesToTrack(previous, maxCorners=300, qualityLevel=0.01, minDistance=7, blockSize=7)
    if corners is None or len(corners) < MIN_TRACKED_POINTS:
        return np.zeros(3), False
    moved, status, _err = cv2.calcOpticalFlowPyrLK(
        previous, current, corners, corners.copy(), winSize=(21, 21), maxLevel=3
    )
    good = status.reshape(-1) == 1
    if int(good.sum()) < MIN_TRACKED_POINTS:
        return np.zeros(3), False
    matrix, inliers = cv2.estimateAffinePartial2D(
        corners[good], moved[good], method=cv2.RANSAC, ransacReprojThreshold=2.0
    )
    if matrix is None or inliers is None or int(inliers.sum()) < MIN_TRACKED_POINTS:
        return np.zeros(3), False
    angle = math.atan2(matrix[1, 0], matrix[0, 0])
    return np.array([matrix[0, 2], matrix[1, 2], angle]), True


@dataclass
class MotionTracker:
    """Frame-to-frame motion of a stream of frames, in source pixels (4 floats kept per frame)."""

    max_side: int
    motions: list[np.ndarray] = field(default_factory=list)
    segment_starts: list[int] = field(default_factory=list)
    tracked_pairs: int = 0
    pairs: int = 0
    _previous: np.ndarray | None = None

    def push(self, bgr: np.ndarray, new_segment: bool) -> None:
        gray, scale = analysis_gray(bgr, self.max_side)
        if new_segment or self._previous is None:
            self.segment_starts.append(len(self.motions))
            self.motions.append(np.zeros(3))
        else:
            motion, tracked = estimate_motion(self._previous, gray)
            motion[:2] /= scale
            self.motions.append(motion)
            self.pairs += 1
            self.tracked_pairs += int(tracked)
        self._previous = gray

    def as_array(self) -> np.ndarray:
        return np.array(self.motions).reshape(-1, 3)

    def jitter_px(self, mask: np.ndarray | None = None) -> float:
        """High-frequency camera-path RMS (pixels) over the frames `mask` selects (default: all)."""
        return path_jitter(self.as_array(), self.segment_starts, mask)


def _segments(count: int, starts: list[int]) -> list[slice]:
    bounds = [*starts, count]
    return [slice(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def moving_average(values: np.ndarray, radius: int) -> np.ndarray:
    """Centred moving average along axis 0, edges padded by reflection (keeps the ends unbiased)."""
    if radius <= 0 or len(values) < 2:
        return values.copy()
    pad = min(radius, len(values) - 1)
    padded = np.pad(values, ((pad, pad), (0, 0)), mode="reflect")
    kernel = np.ones(2 * pad + 1) / (2 * pad + 1)
    return np.stack([np.convolve(padded[:, i], kernel, mode="valid") for i in range(values.shape[1])], axis=1)


def path_jitter(motions: np.ndarray, segment_starts: list[int], mask: np.ndarray | None = None) -> float:
    squares: list[np.ndarray] = []
    for part in _segments(len(motions), segment_starts or [0]):
        path = np.cumsum(motions[part, :2], axis=0)
        shake = path - moving_average(path, JITTER_WINDOW)
        energy = (shake**2).sum(axis=1)
        squares.append(energy if mask is None else energy[mask[part]])
    joined = np.concatenate(squares) if squares else np.zeros(0)
    return float(math.sqrt(joined.mean())) if joined.size else 0.0


@dataclass(frozen=True)
class StabilizationPlan:
    corrections: np.ndarray  # [N, 3]: dx, dy (source pixels), angle (radians) applied to frame N
    crop: float  # fraction of width/height removed per side
    zoom: float  # 1 / (1 - 2 * crop): the crop scaled back to the source size
    crop_limited: bool  # corrections were capped to fit max_crop


def plan_stabilization(
    motions: np.ndarray,
    segment_starts: list[int],
    covered: np.ndarray,
    *,
    width: int,
    height: int,
    radius: int,
    max_crop: float,
) -> StabilizationPlan:
    corrections = np.zeros_like(motions)
    for part in _segments(len(motions), segment_starts or [0]):
        path = np.cumsum(motions[part], axis=0)
        corrections[part] = moving_average(path, radius) - path
    corrections[~covered] = 0.0
    # Pixels a correction exposes at the border, per side, as a fraction of the frame.
    half_w, half_h = width / 2, height / 2
    sin = np.abs(np.sin(corrections[:, 2]))
    need_x = (np.abs(corrections[:, 0]) + half_h * sin) / width
    need_y = (np.abs(corrections[:, 1]) + half_w * sin) / height
    needed = float(max(need_x.max(initial=0.0), need_y.max(initial=0.0)))
    limited = needed > max_crop
    if limited:
        corrections[:, 0] = np.clip(corrections[:, 0], -max_crop * width * 0.8, max_crop * width * 0.8)
        corrections[:, 1] = np.clip(corrections[:, 1], -max_crop * height * 0.8, max_crop * height * 0.8)
        limit_angle = math.asin(min(1.0, 0.2 * max_crop * width / max(half_h, 1.0)))
        corrections[:, 2] = np.clip(corrections[:, 2], -limit_angle, limit_angle)
        needed = max_crop
    crop = min(max_crop, needed + (0.004 if needed > 0 else 0.0))
    return StabilizationPlan(
        corrections=corrections, crop=crop, zoom=1.0 / (1.0 - 2.0 * crop), crop_limited=limited
    )


def warp(bgr: np.ndarray, correction: np.ndarray, zoom: float) -> np.ndarray:
    """Shift/rotate the frame by its correction, then zoom about the centre to hide the borders."""
    height, width = bgr.shape[:2]
    dx, dy, angle = (float(v) for v in correction)
    if dx == 0.0 and dy == 0.0 and angle == 0.0 and zoom == 1.0:
        return bgr
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -math.degrees(angle), zoom)
    matrix[0, 2] += zoom * dx
    matrix[1, 2] += zoom * dy
    return cv2.warpAffine(
        bgr, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
