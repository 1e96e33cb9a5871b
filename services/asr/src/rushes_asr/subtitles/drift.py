"""How far each cue's timing is from the words it shows, measured independently of cue building.

Each word belongs to the cue that contains its midpoint (or the nearest cue), so the same check
works on cues read back from a delivered file. In-time drift counts both ways (early or late);
out-time drift counts only a cue that is gone before its last word ends, since keeping the text
up after speech for reading time is intended.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from rushes_asr.subtitles.cue import Cue
from rushes_asr.subtitles.words import Word


@dataclass(frozen=True)
class CueDrift:
    cue_number: int
    in_drift_s: float
    """Cue in-time minus its first word's start (positive: the cue comes late)."""
    out_drift_s: float
    """How long the last word goes on after the cue is gone (0 when the cue outlasts it)."""
    word_count: int

    @property
    def drift_s(self) -> float:
        return max(abs(self.in_drift_s), self.out_drift_s)


def measure_drift(cues: Sequence[Cue], words: Sequence[Word]) -> list[CueDrift]:
    """Drift of every cue that shows at least one word (cues without words are not listed)."""
    if not cues:
        return []
    starts = [cue.start_s for cue in cues]
    members: dict[int, list[Word]] = {}
    for word in words:
        middle = (word.start_s + word.end_s) / 2
        at = bisect.bisect_right(starts, middle) - 1
        candidates = [i for i in (at, at + 1) if 0 <= i < len(cues)]
        owner = min(candidates, key=lambda i: _distance(cues[i], middle))
        members.setdefault(owner, []).append(word)
    drifts: list[CueDrift] = []
    for index in sorted(members):
        cue, group = cues[index], members[index]
        first = min(word.start_s for word in group)
        last = max(word.end_s for word in group)
        drifts.append(
            CueDrift(
                cue_number=index + 1,
                in_drift_s=round(cue.start_s - first, 3),
                out_drift_s=round(max(0.0, last - cue.end_s), 3),
                word_count=len(group),
            )
        )
    return drifts


def _distance(cue: Cue, t: float) -> float:
    if cue.start_s <= t <= cue.end_s:
        return 0.0
    return cue.start_s - t if t < cue.start_s else t - cue.end_s
