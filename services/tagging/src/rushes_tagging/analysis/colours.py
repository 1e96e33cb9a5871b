"""Dominant colours: k-means in CIELAB on a pixel sample gathered across the shot.

Lab makes cluster distances perceptual (delta E), so two blues the eye cannot tell apart merge and
a small red accent is not swallowed by a large gray. The sample is a fixed grid of pixels from
each sampled frame, thinned when it grows, so the cost per shot is bounded; k-means runs once, in
finish(), with a seeded generator (same shot, same answer).
"""

from __future__ import annotations

import cv2
import numpy as np

from .config import AnalysisConfig
from .decision import Decision, Evidence, rounded

MODEL = "rushes.dominant_colors"
PIXELS_PER_FRAME = 1200
MAX_PIXELS = 8_000
ITERATIONS = 25


class PixelSample:
    """A bounded, deterministic sample of BGR pixels from the shot's sampled frames."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._count = 0

    def add(self, frame_bgr: np.ndarray) -> None:
        height, width = frame_bgr.shape[:2]
        step = max(1, int(np.sqrt(height * width / PIXELS_PER_FRAME)))
        chunk = frame_bgr[step // 2 :: step, step // 2 :: step].reshape(-1, 3)
        self._chunks.append(chunk)
        self._count += len(chunk)
        if self._count > MAX_PIXELS:  # thin everything seen so far by half
            merged = np.concatenate(self._chunks)[::2]
            self._chunks, self._count = [merged], len(merged)

    def pixels(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.zeros((0, 3), np.uint8)


def bgr_to_lab(bgr: np.ndarray) -> np.ndarray:
    pixels = (bgr.reshape(-1, 1, 3).astype(np.float32)) / 255.0
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2Lab).reshape(-1, 3)


def lab_to_hex(lab: np.ndarray) -> str:
    bgr = cv2.cvtColor(lab.reshape(1, 1, 3).astype(np.float32), cv2.COLOR_Lab2BGR).reshape(3)
    b, g, r = (round(float(np.clip(c, 0.0, 1.0)) * 255) for c in bgr)
    return f"#{r:02x}{g:02x}{b:02x}"


def kmeans(points: np.ndarray, k: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(centres [k', 3], labels) by k-means++ seeding and Lloyd iterations; k' < k when the points
    hold fewer distinct values than k (a two-colour frame gives two centres, not five)."""
    rng = np.random.default_rng(seed)
    norms = (points**2).sum(axis=1)
    centres = [points[rng.integers(len(points))]]
    d2 = ((points - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = float(d2.sum())
        if total <= 1e-9:  # every point already sits on a centre
            break
        centre = points[rng.choice(len(points), p=d2 / total)]
        centres.append(centre)
        d2 = np.minimum(d2, ((points - centre) ** 2).sum(axis=1))
    centre_array = np.array(centres, dtype=np.float64)
    labels = np.zeros(len(points), dtype=np.int64)
    for _ in range(ITERATIONS):
        # |p - c|^2 = |p|^2 - 2 p.c + |c|^2: one matrix product instead of a [N, k, 3] array.
        distances = norms[:, None] - 2.0 * points @ centre_array.T + (centre_array**2).sum(axis=1)[None, :]
        labels = np.argmin(distances, axis=1)
        counts = np.bincount(labels, minlength=len(centre_array)).astype(np.float64)
        sums = np.stack(
            [np.bincount(labels, weights=points[:, d], minlength=len(centre_array)) for d in range(3)], axis=1
        )
        updated = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1.0)[:, None], centre_array)
        if np.allclose(updated, centre_array, atol=1e-3):
            break
        centre_array = updated
    return centre_array, labels


def dominant_colours(
    pixels_bgr: np.ndarray, config: AnalysisConfig
) -> tuple[list[tuple[np.ndarray, float]], float]:
    """[(Lab centre, share)] largest first after merging near-identical clusters, and the mean
    distance (delta E) of pixels to their centre: how well a few colours describe the shot."""
    lab = bgr_to_lab(pixels_bgr).astype(np.float64)
    centres, labels = kmeans(lab, config.dominant_colours)
    shares = np.bincount(labels, minlength=len(centres)).astype(np.float64) / len(lab)
    spread = float(np.linalg.norm(lab - centres[labels], axis=1).mean())
    merged: list[tuple[np.ndarray, float]] = []
    for i in np.argsort(-shares):
        for j, (centre, share) in enumerate(merged):
            if np.linalg.norm(centre - centres[i]) < config.colour_merge_delta_e:
                total = share + shares[i]
                merged[j] = ((centre * share + centres[i] * shares[i]) / total, total)
                break
        else:
            merged.append((centres[i], float(shares[i])))
    merged.sort(key=lambda item: -item[1])
    return [(c, s) for c, s in merged if s >= config.min_colour_fraction], spread


def decide_dominant_colours(pixels_bgr: np.ndarray, config: AnalysisConfig) -> Decision:
    if len(pixels_bgr) == 0:
        raise ValueError("no pixels sampled for dominant colours")
    colours, spread = dominant_colours(pixels_bgr, config)
    evidence = Evidence()
    evidence.add(f"method:kmeans_lab_k={config.dominant_colours}")
    evidence.add(f"pixels={len(pixels_bgr)}")
    evidence.measure("mean_delta_e_to_centre", spread, 1)
    # A busy frame has no true "dominant" colours: the clusters are an arbitrary partition.
    confidence = round(float(np.clip(0.9 - spread / 60.0, 0.4, 0.9)), 3)
    return Decision(
        value=[{"hex": lab_to_hex(centre), "fraction": rounded(share, 3)} for centre, share in colours],
        confidence=confidence,
        reasons=evidence.tags,
        model=MODEL,
    )
