"""Technical cues that are not picture content: black frames, colour bars, a slate.

Bars are recognised by what every SMPTE/EBU/ARIB bar pattern shares: vertically uniform bars whose
colours run yellow, cyan, green, magenta, red, blue left to right. A slate is a region of high
contrast diagonal stripes (the clapstick) with lines of writing below: a rough cue, reported with
a low confidence.
"""

from __future__ import annotations

import cv2
import numpy as np

from .config import AnalysisConfig
from .decision import Decision, Evidence, rounded
from .exposure import LumaStats
from .graphics import TextLine

MODEL = "rushes.technical_cues"
# RGB on/off bits of the bar sequence shared by every bar pattern.
BAR_SEQUENCE = [(1, 1, 0), (0, 1, 1), (0, 1, 0), (1, 0, 1), (1, 0, 0), (0, 0, 1)]
BAR_COLUMNS = 160
STRIPE_GRID = (8, 6)  # columns, rows


def is_black_frame(stats: LumaStats, config: AnalysisConfig) -> bool:
    return stats.mean <= config.black_max_mean_luma and stats.p99 <= config.black_max_p99_luma


def has_colour_bars(frame_bgr: np.ndarray) -> bool:
    """True when the upper half holds vertically uniform bars in the standard colour order."""
    height = frame_bgr.shape[0]
    band = frame_bgr[int(height * 0.1) : int(height * 0.5)]
    band = cv2.resize(band, (BAR_COLUMNS, max(4, band.shape[0] // 4)), interpolation=cv2.INTER_AREA)
    band = band.astype(np.float32)[..., ::-1]  # RGB
    if float(band.std(axis=0).mean()) > 10.0:  # bars do not change down the column
        return False
    columns = band.mean(axis=0)
    peak = columns.max(axis=1, keepdims=True)
    bits = (columns > 0.5 * np.maximum(peak, 1.0)) & (peak > 40.0)
    # Saturated: the off channels must be well below the on channels.
    off_level = np.where(bits, 0.0, columns).max(axis=1)
    saturated = off_level < 0.35 * peak[:, 0]
    runs: list[tuple[tuple[int, int, int], int]] = []
    for code, sat in zip(map(tuple, bits.astype(int)), saturated, strict=True):
        key = code if sat or code == (1, 1, 1) else (-1, -1, -1)
        if runs and runs[-1][0] == key:
            runs[-1] = (key, runs[-1][1] + 1)
        else:
            runs.append((key, 1))
    significant = [(code, n) for code, n in runs if n >= BAR_COLUMNS * 0.04]
    codes = [code for code, _ in significant]
    for start in range(len(codes) - len(BAR_SEQUENCE) + 1):
        if codes[start : start + len(BAR_SEQUENCE)] == BAR_SEQUENCE:
            widths = np.array(
                [n for _, n in significant[start : start + len(BAR_SEQUENCE)]], dtype=np.float64
            )
            if widths.max() <= 1.6 * widths.min():  # bars are equal-width
                return True
    return False


def slate_score(gray: np.ndarray, lines: list[TextLine]) -> float:
    """0..1: diagonal black/white stripes side by side (the clapstick) with text lines below them."""
    height, width = gray.shape
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    ax, ay = np.abs(gx), np.abs(gy)
    strong = (ax + ay) > 400.0  # a step of ~100 code values or more
    diagonal = strong & (np.minimum(ax, ay) > 0.6 * np.maximum(ax, ay))
    cols, rows = STRIPE_GRID
    cell_h, cell_w = height // rows, width // cols
    best_run, stripe_bottom = 0, 0
    for r in range(rows):
        run = 0
        for c in range(cols):
            cell = (slice(r * cell_h, (r + 1) * cell_h), slice(c * cell_w, (c + 1) * cell_w))
            edges = float(strong[cell].mean())
            diag = float(diagonal[cell].sum()) / max(1.0, float(strong[cell].sum()))
            if edges > 0.04 and diag > 0.6:
                run += 1
                if run > best_run:
                    best_run, stripe_bottom = run, (r + 1) * cell_h
            else:
                run = 0
    if best_run < 2:
        return 0.0
    text_below = sum(1 for line in lines if line.y >= stripe_bottom - cell_h // 2)
    return min(1.0, 0.35 + 0.1 * best_run) if text_below else 0.25


def decide_cues(
    *, black: list[bool], bars: list[bool], slate: list[float], frame_indices: list[int]
) -> Decision:
    """One decision listing the cues found, with the share of sampled frames showing each."""
    count = max(1, len(black))
    black_share = sum(black) / count
    bars_share = sum(bars) / count
    slate_share = sum(1 for s in slate if s >= 0.5) / count
    detected: list[str] = []
    evidence = Evidence()
    confidences: list[float] = []
    if black_share > 0:
        detected.append("black_frames")
        evidence.add(f"black_frames={black_share * 100:.0f}%")
        confidences.append(0.95)
    if bars_share > 0:
        detected.append("color_bars")
        evidence.add(f"color_bars={bars_share * 100:.0f}%")
        confidences.append(0.9)
    if slate_share > 0:
        detected.append("slate")
        evidence.add(f"slate={slate_share * 100:.0f}%")
        evidence.add("slate:weak_detector")
        confidences.append(0.45)
    if not detected:
        evidence.add("none_found")
        # Black frames and bars are rarely missed; a slate held at an angle easily is.
        confidences.append(0.75)
    first = {
        name: next(i for i, hit in zip(frame_indices, hits, strict=True) if hit)
        for name, hits in (
            ("black_frames", black),
            ("color_bars", bars),
            ("slate", [s >= 0.5 for s in slate]),
        )
        if any(hits)
    }
    return Decision(
        value={
            "detected": detected,
            "black_frame_fraction": rounded(black_share, 3),
            "color_bar_fraction": rounded(bars_share, 3),
            "slate_fraction": rounded(slate_share, 3),
            "first_frame": first,
        },
        confidence=min(confidences),
        reasons=evidence.tags,
        model=MODEL,
    )
