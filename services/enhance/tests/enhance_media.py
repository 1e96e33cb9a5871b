"""Synthetic clips with a known truth for the enhance tests: shaky, noisy, small.

Frames are written with rushes_testing.media_builders.write_video (RGB in, H.264 out).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from rushes_testing.media_builders import write_video


def textured_scene(width: int, height: int, *, seed: int = 0) -> np.ndarray:
    """BGR scene with smooth shading, hard-edged shapes and corners to track."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(60, 190, size=(4, 6, 3)).astype(np.float32)
    frame = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    scale = min(width, height)
    for _ in range(60):
        colour = tuple(float(c) for c in rng.uniform(20, 235, size=3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if rng.random() < 0.5:
            cv2.circle(
                frame, (x, y), int(rng.integers(scale // 40 + 2, scale // 10 + 3)), colour, -1, cv2.LINE_AA
            )
        else:
            w, h = (int(v) for v in rng.integers(scale // 30 + 2, scale // 6 + 3, size=2))
            cv2.rectangle(frame, (x, y), (x + w, y + h), colour, -1)
    return np.clip(frame, 0, 255).astype(np.uint8)


def shaky_frames(
    count: int, width: int, height: int, *, shake_px: float, seed: int = 1
) -> Iterator[np.ndarray]:
    """A slow pan over a bigger scene plus random per-frame shake of `shake_px` RMS per axis (BGR)."""
    margin = int(4 * shake_px) + 8
    scene = textured_scene(width + 2 * margin + count, height + 2 * margin, seed=seed)
    rng = np.random.default_rng(seed)
    for index in range(count):
        jx, jy = np.clip(rng.normal(0, shake_px, 2), -3 * shake_px, 3 * shake_px)
        x = margin + index * 0.5 + jx
        y = margin + jy
        matrix = np.array([[1, 0, -x], [0, 1, -y]], np.float32)
        yield cv2.warpAffine(scene, matrix, (width, height), flags=cv2.INTER_LINEAR)


def noisy_frames(clean: np.ndarray, count: int, sigma: float, *, seed: int = 2) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    for _ in range(count):
        noise = rng.normal(0, sigma, clean.shape).astype(np.float32)
        yield np.clip(clean.astype(np.float32) + noise + 0.5, 0, 255).astype(np.uint8)


def write_bgr_clip(path: Path, frames: Iterator[np.ndarray], *, width: int, height: int, fps: int = 25,
                   lossless: bool = False) -> Path:  # fmt: skip
    options = {"qp": "0", "preset": "ultrafast"} if lossless else {"crf": "12", "preset": "ultrafast"}
    return write_video(
        path,
        (f[..., ::-1].copy() for f in frames),
        width=width,
        height=height,
        fps=fps,
        codec_options=options,
    )
