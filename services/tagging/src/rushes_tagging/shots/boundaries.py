"""From accepted transitions to shots: group what belongs together, place each boundary, label it.

Grouping rules (one boundary per group):
- a fade out and a fade in around the same black frames are one boundary, placed in the middle of
  the darkest frames of that run; a fade out followed by a cut out of the black is placed at that cut, a cut into
  black followed by a fade in at that cut; a lone fade out (in) is placed where the black ends
  (begins);
- black at the very start or end of the clip separates nothing: a fade in from it (or a fade out
  into it) is still reported as a transition but opens no shot;
- a dissolve's boundary is its middle frame; a cut's is its frame;
- a cut strictly inside a fade or dissolve belongs to it and is dropped;
- boundaries closer than the minimum shot length are merged, the more confident one kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rushes_tagging.shots.cuts import CutDecision
from rushes_tagging.shots.gradual import GradualDecision
from rushes_tagging.shots.model import Shot, ShotEntry, ShotResult, Transition
from rushes_tagging.shots.timecode import TimecodeClock


@dataclass(frozen=True)
class Boundary:
    frame: int
    entry: ShotEntry
    confidence: float
    span: tuple[int, int]  # [start, end) of the transition(s) that make this boundary


def _near(frame: int, target: int) -> bool:
    return abs(frame - target) <= 1


def _black_run_boundaries(
    fades: Sequence[GradualDecision], cuts: list[CutDecision], count: int
) -> tuple[list[Boundary], set[int]]:
    """Boundaries of the fade groups, and the cut frames those groups absorbed."""
    runs: dict[tuple[int, int], dict[str, GradualDecision]] = {}
    for fade in fades:
        if fade.black_run is not None:
            runs.setdefault(fade.black_run, {})[fade.kind] = fade
    boundaries: list[Boundary] = []
    absorbed: set[int] = set()
    used: tuple[CutDecision | None, ...]
    for (start, end), members in runs.items():
        fade_out, fade_in = members.get("fade_out"), members.get("fade_in")
        darkest = next(f.darkest for f in members.values() if f.darkest is not None)
        cut_in = next((c for c in cuts if _near(c.frame, start)), None)
        cut_out = next((c for c in cuts if _near(c.frame, end)), None)
        if fade_out and fade_in:
            frame, used = darkest[0] + (darkest[1] - darkest[0]) // 2, (cut_in, cut_out)
        elif fade_out:
            frame, used = (cut_out.frame if cut_out else end), (cut_out,)
        elif fade_in:
            frame, used = (cut_in.frame if cut_in else start), (cut_in,)
        else:
            continue
        absorbed.update(cut.frame for cut in used if cut is not None)
        opens_clip = start == 0 and fade_out is None
        closes_clip = end >= count and fade_in is None
        if opens_clip or closes_clip or not 0 < frame < count:
            continue  # black at either end of the clip: nothing on its other side
        parts = [f for f in (fade_out, fade_in) if f is not None]
        confidence = min(f.confidence for f in parts)
        span_start = min([f.start_frame for f in parts] + [c.frame for c in used if c is not None])
        span_end = max([f.end_frame for f in parts] + [c.frame for c in used if c is not None])
        boundaries.append(Boundary(frame, "fade", confidence, (span_start, span_end)))
    return boundaries, absorbed


def _merge_close(boundaries: list[Boundary], min_shot: int) -> list[Boundary]:
    kept: list[Boundary] = []
    for boundary in sorted(boundaries, key=lambda b: -b.confidence):
        if all(abs(boundary.frame - k.frame) >= min_shot for k in kept):
            kept.append(boundary)
    return sorted(kept, key=lambda b: b.frame)


def assemble(
    *,
    cuts: Sequence[CutDecision],
    fades: Sequence[GradualDecision],
    dissolves: Sequence[GradualDecision],
    times: Sequence[float],
    end_s: float,
    fps: float,
    clock: TimecodeClock,
    min_shot: int,
) -> ShotResult:
    count = len(times)
    gradual = list(fades) + list(dissolves)
    kept_cuts = [c for c in cuts if not any(g.start_frame < c.frame < g.end_frame for g in gradual)]
    transitions = [Transition("cut", c.frame, c.frame, c.confidence, c.reason) for c in kept_cuts]
    transitions += [Transition(g.kind, g.start_frame, g.end_frame, g.confidence, g.reason) for g in gradual]  # type: ignore[arg-type]
    transitions.sort(key=lambda t: (t.start_frame, t.end_frame))

    boundaries, absorbed = _black_run_boundaries(fades, kept_cuts, count)
    boundaries += [
        Boundary(c.frame, "cut", c.confidence, (c.frame, c.frame))
        for c in kept_cuts
        if c.frame not in absorbed
    ]
    boundaries += [
        Boundary(
            d.start_frame + (d.end_frame - d.start_frame) // 2,
            "dissolve",
            d.confidence,
            (d.start_frame, d.end_frame),
        )
        for d in dissolves
    ]
    boundaries = _merge_close([b for b in boundaries if 0 < b.frame < count], min_shot)

    origin = times[0] if times else 0.0
    starts = [Boundary(0, "start", 1.0, (0, 0)), *boundaries] if count else []
    shots = []
    for index, opening in enumerate(starts):
        end_frame = starts[index + 1].frame if index + 1 < len(starts) else count
        start_s = times[opening.frame] - origin
        stop_s = (times[end_frame] if end_frame < count else end_s) - origin
        shots.append(
            Shot(
                index=index,
                start_frame=opening.frame,
                end_frame=end_frame,
                start_s=round(start_s, 6),
                end_s=round(stop_s, 6),
                timecode_in=clock.at_seconds(start_s),
                timecode_out=clock.at_seconds(stop_s),
                transition_in=opening.entry,
                confidence=opening.confidence,
                transition_start_frame=opening.span[0],
                transition_end_frame=opening.span[1],
            )
        )
    return ShotResult(
        shots=tuple(shots),
        transitions=tuple(transitions),
        frame_count=count,
        fps=fps,
        duration_s=round(max(0.0, end_s - origin), 6) if count else 0.0,
        start_timecode=clock.at_frame(0),
        drop_frame=clock.rate.drop_frame,
    )
