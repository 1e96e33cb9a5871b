"""Denoising tuned by the measured noise: motion-adaptive temporal averaging, then spatial NLM.

Noise is measured first (`estimate_noise_sigma`, Immerkaer's Laplacian-difference operator with a
median instead of a mean, so edges and texture barely count), on sampled frames of the clip.

Temporal: each frame is averaged with up to `radius` neighbours on each side *within its shot*,
each neighbour weighted per pixel by how well it matches (a difference the noise explains keeps
weight ~1, motion drives it to ~0): static areas lose noise without ghosting moving ones.
Spatial: OpenCV's non-local means on what is left, with `h` set from the residual noise level.
Streaming: at most 2*radius+1 frames are held.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import cv2
import numpy as np

_LAPLACIAN_DIFF = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
# |N(0, s)| has median 0.6745 s; the kernel's response to white noise has std 6 sigma.
_MEDIAN_TO_SIGMA = 1.0 / (0.6745 * 6.0)
SPATIAL_H_PER_SIGMA = 1.1
MIN_SPATIAL_H = 1.0

Payload = TypeVar("Payload")


def estimate_noise_sigma(bgr: np.ndarray) -> float:
    """Noise standard deviation of the luma (BT.601 weights), in 8-bit code values, as tagging measures it."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    response = cv2.filter2D(gray, -1, _LAPLACIAN_DIFF, borderType=cv2.BORDER_REFLECT)[1:-1, 1:-1]
    return float(np.median(np.abs(response)) * _MEDIAN_TO_SIGMA)


@dataclass(frozen=True)
class DenoiseStrength:
    sigma: float  # measured before
    radius: int
    spatial_h: float

    @classmethod
    def from_sigma(cls, sigma: float, radius: int) -> DenoiseStrength:
        # Temporal averaging of ~2r+1 frames leaves about sigma / sqrt(2r+1) for the spatial pass.
        residual = sigma / math.sqrt(2 * radius + 1)
        return cls(sigma=sigma, radius=radius, spatial_h=max(MIN_SPATIAL_H, SPATIAL_H_PER_SIGMA * residual))


def temporal_average(centre: np.ndarray, neighbours: list[np.ndarray], sigma: float) -> np.ndarray:
    if not neighbours:
        return centre
    c = centre.astype(np.float32)
    total = c.copy()
    weights = np.ones(c.shape[:2], np.float32)
    expected = 2.0 * max(sigma, 0.5) ** 2  # mean squared difference of two noisy copies
    for frame in neighbours:
        n = frame.astype(np.float32)
        d2 = cv2.blur(((n - c) ** 2).mean(axis=2), (5, 5))
        w = np.exp(-np.maximum(d2 / expected - 1.0, 0.0))
        total += n * w[..., None]
        weights += w
    return np.clip(total / weights[..., None] + 0.5, 0, 255).astype(np.uint8)


def spatial_denoise(bgr: np.ndarray, h: float) -> np.ndarray:
    return cv2.fastNlMeansDenoisingColored(bgr, None, h, h, 7, 15)


def denoise_frame(centre: np.ndarray, neighbours: list[np.ndarray], strength: DenoiseStrength) -> np.ndarray:
    return spatial_denoise(temporal_average(centre, neighbours, strength.sigma), strength.spatial_h)


@dataclass
class _Held(Generic[Payload]):
    payload: Payload
    frame: np.ndarray
    covered: bool


def denoise_stream(
    items: Iterable[tuple[Payload, np.ndarray, bool, bool]], strength: DenoiseStrength
) -> Iterator[tuple[Payload, np.ndarray]]:
    """(payload, frame, covered, new_segment) in, (payload, output frame) out, in the same order.

    Uncovered frames pass through untouched (they still serve as nobody's neighbour: a cut separates
    shots, and coverage is per shot)."""
    radius = strength.radius
    window: deque[_Held[Payload]] = deque()
    centre = 0  # index in `window` of the next frame to emit

    def emit(lookahead: int) -> Iterator[tuple[Payload, np.ndarray]]:
        """Emit every held frame followed by at least `lookahead` frames."""
        nonlocal centre
        while centre < len(window) - lookahead:
            held = window[centre]
            if held.covered:
                lo, hi = max(0, centre - radius), min(len(window), centre + radius + 1)
                neighbours = [window[i].frame for i in range(lo, hi) if i != centre]
                yield held.payload, denoise_frame(held.frame, neighbours, strength)
            else:
                yield held.payload, held.frame
            centre += 1
            while centre > radius:  # the oldest frame can no longer be anyone's neighbour
                window.popleft()
                centre -= 1

    for payload, frame, covered, new_segment in items:
        if new_segment and window:
            yield from emit(0)
            window.clear()
            centre = 0
        window.append(_Held(payload, frame, covered))
        yield from emit(radius)
    yield from emit(0)
