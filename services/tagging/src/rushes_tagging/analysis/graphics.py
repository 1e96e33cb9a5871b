"""Is a frame computer-generated? Flat fills, few colours and lines of text.

Camera footage is never exactly flat: sensor noise and texture make neighbouring pixels differ.
Titles, lower thirds, slides and test patterns have large areas where the Laplacian is zero and
most pixels share a handful of colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

TEXT_EDGE_CONTRAST = 60  # morphological gradient (3x3) of a glyph's stroke against its background
TOP_COLOURS = 8


@dataclass(frozen=True)
class TextLine:
    x: int
    y: int
    w: int
    h: int


def flat_fraction(abs_laplacian: np.ndarray) -> float:
    """Share of pixels whose 4-neighbour Laplacian is exactly zero: planar to the last bit.

    Compressed, downscaled camera footage is smooth, so "nearly flat" (|Laplacian| <= 1) covers
    half of many real frames (skies, walls); exactly flat stays near 0.2-0.3 there and above 0.9
    on titles and test patterns."""
    return float(np.count_nonzero(abs_laplacian == 0)) / abs_laplacian.size


def top_colour_coverage(frame_bgr: np.ndarray, stride: int = 2) -> float:
    """Share of pixels taken by the 8 most common colours at 4 bits per channel."""
    codes = (frame_bgr[::stride, ::stride] >> 4).astype(np.int32).reshape(-1, 3)
    keys = (codes[:, 0] << 8) | (codes[:, 1] << 4) | codes[:, 2]
    counts = np.bincount(keys, minlength=4096)
    top = np.partition(counts, -TOP_COLOURS)[-TOP_COLOURS:]
    return float(top.sum() / max(1, len(keys)))


def text_lines(gray: np.ndarray) -> list[TextLine]:
    """Boxes that look like lines of text: runs of high-contrast strokes, wider than tall, a few
    percent of the frame high, densely filled with edges. Cheap and rough: it finds titles and
    slate writing, not small print."""
    height, width = gray.shape
    gradient = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    strokes = (gradient > TEXT_EDGE_CONTRAST).astype(np.uint8)
    joined = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, np.ones((1, max(3, width // 50)), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    lines: list[TextLine] = []
    for x, y, w, h, _area in stats[1:count]:
        if not (0.02 * height <= h <= 0.2 * height and w >= 2.0 * h and w <= 0.95 * width):
            continue
        fill = float(strokes[y : y + h, x : x + w].mean())
        if fill >= 0.2:
            lines.append(TextLine(int(x), int(y), int(w), int(h)))
    return lines


FLAT_FLOOR = 0.3  # exactly-flat share that camera footage reaches (smooth skies, walls)


def graphic_score(flat: float, coverage: float, lines: int, min_flat: float) -> float:
    """0..1: how much a frame looks like a title card / slide / test pattern: flat fills first,
    then few colours, then lines of text."""
    flatness = float(np.clip((flat - FLAT_FLOOR) / max(1e-6, min_flat - FLAT_FLOOR), 0.0, 1.0))
    simplicity = float(np.clip((coverage - 0.5) / 0.3, 0.0, 1.0))
    text_bonus = 0.15 if lines else 0.0
    return float(min(1.0, flatness * (0.5 + 0.5 * simplicity) + text_bonus * flatness))
