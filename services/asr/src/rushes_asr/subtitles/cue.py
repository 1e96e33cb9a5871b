"""A subtitle cue: what is shown, from when to when. The same type comes out of cue building and
out of parsing a delivered SRT/WebVTT/TTML file, so one validator checks both."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from rushes_asr.subtitles.errors import SubtitleInputError


@dataclass(frozen=True)
class Cue:
    """One subtitle. Cues are numbered from 1 in files and reports (`cue_number`)."""

    start_s: float
    end_s: float
    lines: tuple[str, ...]

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise SubtitleInputError(f"cue {self.lines!r} has a non-finite time")
        if self.start_s < 0 or self.end_s <= self.start_s:
            raise SubtitleInputError(
                f"cue {self.lines!r} runs from {self.start_s} s to {self.end_s} s: it must start at 0 or "
                "later and end after it starts"
            )
        if not self.lines or any(not isinstance(line, str) or "\n" in line for line in self.lines):
            raise SubtitleInputError(f"cue at {self.start_s} s needs one or more single-line strings")

    @property
    def text(self) -> str:
        """The lines as one running text (a line break reads as a space)."""
        return " ".join(line.strip() for line in self.lines if line.strip())

    @property
    def chars(self) -> int:
        """Characters counted for reading speed: every character of every line, breaks excluded."""
        return sum(len(line) for line in self.lines)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def check_cues(cues: Sequence[Cue]) -> None:
    """Refuse a cue list that is not in time order (each cue must start after the previous starts)."""
    for number, cue in enumerate(cues, start=1):
        if not isinstance(cue, Cue):
            raise SubtitleInputError(f"cue {number} is a {type(cue).__name__}, not a Cue")
    for number, (before, after) in enumerate(itertools.pairwise(cues), start=2):
        if after.start_s < before.start_s:
            raise SubtitleInputError(
                f"cue {number} starts before cue {number - 1}: cues must be in time order"
            )
