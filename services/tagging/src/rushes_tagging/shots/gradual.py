"""Gradual transitions: fades through black and dissolves.

Fades are found from the per-frame luminance alone: a run of black frames, entered by a steady
fall of mean luma (fade out) and/or left by a steady rise (fade in). "Steady" means every step
moves the same way and no step collapses below a quarter of the average step so far, so a slow
drift of exposure after the fade does not stretch it.

Dissolves are found at several time scales h: frame c is the middle of a dissolve when the frame
h before and the frame h after differ like two shots do (over most of the picture, and not just
by brightness), frame c is a mix of the two (least squares, small residual, mixing weight near
one half, see `measures.blend_fit`), the far end does not show again what came just before the
near end (a flash fading out is a mix with white), and the change over the h frames just before
and just after is much smaller (the shots either side hold together; h rather than 2h frames so
that a neighbouring transition rarely falls inside, and a window that does hold one is ignored).
The span comes from a straight line fitted to the mixing weights of the frames in between.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rushes_tagging.shots.config import ShotDetectorConfig

RAMP_NOISE = 0.0015  # mean-luma steps smaller than this are noise, not a ramp
BLACK_TOLERANCE = 0.01  # mean luma this close to a black run's darkest frame is fully black
PROFILE_LOW, PROFILE_HIGH = 0.08, 0.92  # mixing weights that still count as "pure" shots (short mixes)


@dataclass(frozen=True)
class GradualDecision:
    kind: str  # "fade_in" | "fade_out" | "dissolve"
    start_frame: int
    end_frame: int  # exclusive
    confidence: float
    reason: str
    black_run: tuple[int, int] | None = None  # the black frames a fade leads to or from, [start, end)
    darkest: tuple[int, int] | None = None  # the darkest frames of that run, [start, end)


def black_runs(peak: np.ndarray, black_peak: float) -> list[tuple[int, int]]:
    """Maximal runs [start, end) of frames whose 99th-percentile luma is below `black_peak`."""
    black = np.concatenate([[False], peak < black_peak, [False]])
    edges = np.flatnonzero(np.diff(black.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _ramp_length(levels: Sequence[float]) -> int:
    """How many steps `levels` (starting at the black end) rise steadily before flattening."""
    steps = 0
    misses = 0
    for index in range(1, len(levels)):
        step = levels[index] - levels[index - 1]
        average = (levels[index - 1] - levels[0]) / steps if steps else 0.0
        if step > max(RAMP_NOISE, 0.25 * average):
            steps = index
            misses = 0
        else:
            misses += 1
            if misses > 1:
                break
    return steps


def decide_fades(
    mean: np.ndarray, peak: np.ndarray, *, fps: float, config: ShotDetectorConfig
) -> list[GradualDecision]:
    """Fades out into, and in from, every run of black frames, in frame order."""
    count = len(mean)
    min_frames = max(2, round(config.fade_min_s * fps))
    longest = max(min_frames, round(10.0 * fps))  # no fade lasts longer than 10 s
    decisions = []
    for start, end in black_runs(peak, config.black_peak):
        black_level = float(mean[start:end].min())
        # The fade itself ends (begins) where the picture reaches the darkest level of the run,
        # which can be a few frames inside the run that the black threshold found.
        darkest = np.flatnonzero(mean[start:end] <= black_level + BLACK_TOLERANCE) + start
        into, out_of = int(darkest[0]), int(darkest[-1])
        if start > 0:
            window = mean[max(0, into - longest) : into + 1][::-1]  # black end first
            steps = _ramp_length(window.tolist())
            first = into - steps
            rise = float(mean[first]) - black_level
            if steps >= min_frames and rise >= config.fade_min_rise:
                decisions.append(
                    _fade("fade_out", first, into, steps, rise, (start, end), (into, out_of + 1))
                )
        if end < count:
            window = mean[out_of : min(count, out_of + longest)]
            steps = _ramp_length(window.tolist())
            last = out_of + steps
            rise = float(mean[last]) - black_level
            if steps >= min_frames and rise >= config.fade_min_rise:
                decisions.append(
                    _fade("fade_in", out_of, last, steps, rise, (start, end), (into, out_of + 1))
                )
    return sorted(decisions, key=lambda d: d.start_frame)


def _fade(
    kind: str,
    first: int,
    last: int,
    steps: int,
    rise: float,
    run: tuple[int, int],
    darkest: tuple[int, int],
) -> GradualDecision:
    strength = min(1.0, rise / 0.3)
    confidence = round(0.5 + 0.5 * strength, 3)
    direction = "to" if kind == "fade_out" else "from"
    reason = f"luma_ramp: mean luma {direction} black changes by {rise:.3f} over {steps} frames"
    return GradualDecision(kind, first, last, confidence, reason, run, darkest)


@dataclass(frozen=True)
class DissolveCandidate:
    """A frame that looks like the middle of a dissolve at half-width `half` (see module doc)."""

    centre: int
    half: int
    alpha: float  # mixing weight of the middle frame
    residual: float  # how far the middle frame is from that mix, relative to the ends' distance
    change: float  # aligned content change between the two ends
    coverage: float  # fraction of the picture taking part in that change
    before: float  # aligned change over the h frames before the first end
    after: float  # aligned change over the h frames after the last end
    profile: tuple[float, ...]  # mixing weight of frames centre-half .. centre+half


def decide_dissolves(
    candidates: Sequence[DissolveCandidate],
    cut_frames: Sequence[int],
    fades: Sequence[GradualDecision],
    *,
    config: ShotDetectorConfig,
) -> list[GradualDecision]:
    """Accepted dissolves: steady shots either side, no cut inside, one per overlapping group.

    A context window that holds another transition says nothing about how steady the shot is,
    so it is ignored. Dissolves found in one round are such transitions for the next round
    (back-to-back dissolves each sit in the other's context window).
    """
    cuts = sorted(cut_frames)
    others = [(c, c) for c in cuts] + [(f.start_frame, f.end_frame) for f in fades]
    kept: list[GradualDecision] = []
    for _round in range(3):
        scored = [
            judged
            for cand in candidates
            if (judged := _judge_dissolve(cand, cuts, others, fades, config)) is not None
        ]
        kept = _non_overlapping(scored)
        widened = [(c, c) for c in cuts] + [(f.start_frame, f.end_frame) for f in fades]
        widened += [(d.start_frame, d.end_frame) for d in kept]
        if sorted(widened) == sorted(others):
            break
        others = widened
    return kept


def _judge_dissolve(
    cand: DissolveCandidate,
    cuts: Sequence[int],
    others: Sequence[tuple[int, int]],
    fades: Sequence[GradualDecision],
    config: ShotDetectorConfig,
) -> tuple[float, GradualDecision] | None:
    """(score, decision) when `cand` is a dissolve, given the other transitions known so far."""
    c, h = cand.centre, cand.half
    own = [span for span in others if not (span[0] >= c - h and span[1] <= c + h + 1 and span[0] != span[1])]
    before = 0.0 if _holds(own, c - 2 * h, c - h) else cand.before
    after = 0.0 if _holds(own, c + h, c + 2 * h) else cand.after
    context = max(before, after)
    needed = max(config.dissolve_floor, config.dissolve_ratio * context)
    if cand.change < needed:
        return None
    if any(c - h < cut <= c + h for cut in cuts):
        return None
    span = _mix_span(np.asarray(cand.profile), c - h)
    if span is None:
        return None
    first, last = span
    if last - first < 2:
        return None  # a step, not a mix: a cut the cut detector declined
    profile = np.asarray(cand.profile)
    order = np.corrcoef(np.arange(len(profile)), profile)[0, 1] if np.ptp(profile) > 0 else 0.0
    if not order > 0.8:
        return None
    if any(first < f.end_frame and f.start_frame < last for f in fades):
        return None  # a mix with black is a fade, reported as such
    margin = 1.0 - 0.5 * (needed / cand.change) ** 2
    fit = 1.0 - 0.5 * cand.residual / config.dissolve_max_residual
    confidence = round(max(0.0, min(1.0, margin * fit)), 3)
    reason = (
        f"cross_blend: frames {first}-{last} mix two shots (weight {cand.alpha:.2f} mid-way, "
        f"residual {cand.residual:.2f}); change across {cand.change:.3f} over {cand.coverage:.0%} "
        f"of the picture vs {context:.3f} around"
    )
    return cand.change * (1.0 - cand.residual), GradualDecision("dissolve", first, last, confidence, reason)


def _mix_span(profile: np.ndarray, offset: int) -> tuple[int, int] | None:
    """[first mixed frame, first pure frame of the new shot) from the mixing weights.

    The weights of a dissolve rise in a straight line; motion in the shots makes the flat parts
    drift, so the line is fitted where the mix is clear (0.15..0.85) and extended to 0 and 1.
    Too few such frames (a short dissolve): the first and last frames that leave 'pure'.
    """
    middle = np.flatnonzero((profile >= 0.15) & (profile <= 0.85))
    if middle.size >= 3:
        slope, intercept = np.polyfit(middle.astype(np.float64), profile[middle], 1)
        if slope > 0:
            start = math.floor(-intercept / slope) + 1
            end = math.ceil((1.0 - intercept) / slope)
            return offset + max(0, start), offset + min(len(profile) - 1, end)
    rising = np.flatnonzero(profile >= PROFILE_LOW)
    if not rising.size:
        return None
    settled = np.flatnonzero(profile >= PROFILE_HIGH)
    last = int(settled[0]) if settled.size else len(profile) - 1
    return offset + int(rising[0]), offset + last


def _holds(spans: Sequence[tuple[int, int]], first: int, last: int) -> bool:
    """Whether any transition span (cut (N, N): the jump into N) touches frames first..last."""
    return any(start <= last and end > first for start, end in spans)


def _non_overlapping(scored: list[tuple[float, GradualDecision]]) -> list[GradualDecision]:
    """Best-scoring decisions first; drop any that overlaps one already kept."""
    kept: list[GradualDecision] = []
    for _, decision in sorted(scored, key=lambda item: -item[0]):
        if all(decision.end_frame <= k.start_frame or decision.start_frame >= k.end_frame for k in kept):
            kept.append(decision)
    return sorted(kept, key=lambda d: d.start_frame)
