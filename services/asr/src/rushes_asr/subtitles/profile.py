"""The subtitle style profile: every limit of cue building and validation in one validated place.

Defaults follow common broadcast practice (BBC and streaming-platform guidelines): 42 characters
a line, 2 lines, at most 17 characters a second for adults and 13 for children, cues between
5/6 s and 7 s, 2 frames between cues, gaps of 12 frames or less closed to 2 frames, and no cue
crossing a shot change or ending within a frame of one. Frame-based limits are in frames because
that is how editors state them; they are converted with the asset's frame rate.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rushes_asr.subtitles.errors import SubtitleInputError


class SubtitleProfile(BaseModel):
    """Limits of one subtitle style. Build one with `subtitle_profile(name, **overrides)`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "adult"
    max_chars_per_line: int = Field(42, ge=1, le=200, description="Characters a line, spaces included.")
    max_lines: int = Field(2, ge=1, le=4, description="Lines a cue.")
    max_chars_per_second: float = Field(
        17.0, gt=0, le=100, description="Reading speed: characters of all lines over the cue's duration."
    )
    min_duration_s: float = Field(5 / 6, gt=0, description="Shortest cue on screen.")
    max_duration_s: float = Field(7.0, gt=0, description="Longest cue on screen.")
    min_gap_frames: int = Field(2, ge=0, le=50, description="Least gap between two cues, in frames.")
    close_gap_frames: int = Field(
        12, ge=0, le=100, description="Gaps of this many frames or fewer are closed to `min_gap_frames`."
    )
    shot_change_snap_frames: int = Field(
        12, ge=0, le=100, description="An out-time this close before a shot change is moved onto it."
    )
    shot_change_clearance_frames: int = Field(
        1,
        ge=0,
        le=50,
        description="An in- or out-time within this many frames of a shot change, but not on it, is a fault.",
    )
    max_in_time_shift_s: float = Field(
        0.2,
        ge=0,
        le=1.0,
        description="How far cue building may move an in-time from its first word (to meet a shot "
        "change or the minimum duration); keep it below `max_timing_drift_s`.",
    )
    max_timing_drift_s: float = Field(
        0.25,
        gt=0,
        le=2.0,
        description="Largest in-time difference from the first word, or early out-time before the "
        "last word ends, that validation accepts.",
    )
    max_pause_in_cue_s: float = Field(
        1.0, gt=0, le=10.0, description="A silence at least this long always ends the cue before it."
    )

    @model_validator(mode="after")
    def _consistent(self) -> SubtitleProfile:
        if self.max_duration_s <= self.min_duration_s:
            raise ValueError(
                f"max_duration_s ({self.max_duration_s}) must exceed min_duration_s ({self.min_duration_s})"
            )
        if self.close_gap_frames < self.min_gap_frames:
            raise ValueError("close_gap_frames must be >= min_gap_frames")
        if 0 < self.min_gap_frames <= self.shot_change_clearance_frames:
            raise ValueError(
                "shot_change_clearance_frames must be below min_gap_frames: a cue ending min_gap_frames "
                "before a cue that starts on a shot change would otherwise always be a fault"
            )
        if self.max_in_time_shift_s >= self.max_timing_drift_s:
            raise ValueError("max_in_time_shift_s must be below max_timing_drift_s")
        return self

    def min_duration_frames(self, fps: float) -> int:
        return math.ceil(self.min_duration_s * fps - 1e-9)

    def max_duration_frames(self, fps: float) -> int:
        return math.floor(self.max_duration_s * fps + 1e-9)

    def reading_frames(self, chars: int, fps: float) -> int:
        """Least whole frames `chars` characters need at the profile's reading speed."""
        return math.ceil(chars / self.max_chars_per_second * fps - 1e-9)


PRESETS: dict[str, dict[str, Any]] = {
    "adult": {},
    "children": {"max_chars_per_second": 13.0},
}


def subtitle_profile(name: str = "adult", **overrides: Any) -> SubtitleProfile:
    """A preset by name, with any field overridden; every value is validated."""
    if name not in PRESETS:
        raise SubtitleInputError(f"unknown subtitle profile {name!r}; known: {', '.join(sorted(PRESETS))}")
    try:
        return SubtitleProfile(**{"name": name, **PRESETS[name], **overrides})
    except ValidationError as error:
        raise SubtitleInputError(f"subtitle profile {name!r}: {error}") from error


def check_fps(fps: float) -> float:
    """The frame rate, refused when it cannot time subtitles."""
    if not isinstance(fps, int | float) or not math.isfinite(fps) or not 1.0 <= fps <= 300.0:
        raise SubtitleInputError(f"fps must be a number between 1 and 300, got {fps!r}")
    return float(fps)


def shot_change_frames(shot_changes_s: object, fps: float) -> list[int]:
    """Shot change times as sorted, distinct frame numbers; bad values are refused by position."""
    if shot_changes_s is None:
        return []
    if isinstance(shot_changes_s, str | bytes) or not hasattr(shot_changes_s, "__iter__"):
        raise SubtitleInputError("shot_changes_s must be a sequence of times in seconds")
    frames: set[int] = set()
    for index, value in enumerate(shot_changes_s):
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise SubtitleInputError(f"shot change {index} is {value!r}: expected seconds >= 0")
        frames.add(round(value * fps))
    return sorted(frames)
