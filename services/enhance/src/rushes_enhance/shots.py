"""Which frames a fix covers, and where shots cut (temporal filters never reach across a cut).

Shots come from tagging (start/end times, in seconds, of the original, which the proxy keeps);
frames are placed by their timestamp, so a proxy with a different frame numbering still lands in
the right shot. Without shots the clip is one segment.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ShotSpan:
    index: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class FramePlace:
    shot: int  # tagging's shot index, -1 without shots
    covered: bool  # the fix applies to this frame
    new_segment: bool  # first frame of a shot (temporal state resets here)


class ShotPlan:
    """`covered` empty means every shot. Half a frame of tolerance absorbs rounding of cut times."""

    def __init__(
        self, shots: Sequence[ShotSpan], covered: Iterable[int] = (), *, tolerance_s: float = 0.02
    ) -> None:
        self.shots = sorted(shots, key=lambda s: s.start_s)
        self.covered = frozenset(covered)
        self._starts = [s.start_s - tolerance_s for s in self.shots]
        self._previous: int | None = None

    def place(self, time_s: float) -> FramePlace:
        position = bisect.bisect_right(self._starts, time_s) - 1
        shot = self.shots[max(position, 0)].index if self.shots else -1
        new_segment = shot != self._previous
        self._previous = shot
        covered = not self.covered or shot in self.covered
        return FramePlace(shot=shot, covered=covered, new_segment=new_segment)

    def reset(self) -> None:
        """Start placing from the first frame again (a second pass over the clip)."""
        self._previous = None
