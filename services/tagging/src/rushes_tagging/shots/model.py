"""The shot detector's results: transitions, shots and the whole result of one clip.

Frames are 0-based in decode order. Every span is half-open, [start_frame, end_frame), like the
asset record's shots: a cut at frame N is the empty span [N, N) (N is the first frame of the new
shot); a fade out covers its dimming frames up to (not including) the first black frame; a fade in
starts at its last black frame; a dissolve covers the frames that mix both shots.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

TransitionKind = Literal["cut", "fade_in", "fade_out", "dissolve"]
ShotEntry = Literal["start", "cut", "fade", "dissolve"]

MODEL_NAME = "rushes-shot-boundaries"
MODEL_VERSION = "1.0.0"
"""Bump when a measurement or a default threshold changes meaning, so catalogued shots can be
traced to the detector that cut them."""


@dataclass(frozen=True)
class Transition:
    """One detected transition. `reason` says what evidence made it (a short, stable tag first)."""

    kind: TransitionKind
    start_frame: int
    end_frame: int
    confidence: float
    reason: str


@dataclass(frozen=True)
class Shot:
    """One shot: [start_frame, end_frame), its times in seconds from the first frame, and timecodes.

    `timecode_out` is the label of `end_frame`, the first frame after the shot (exclusive, like
    `end_frame` and an EDL's record-out). `confidence` is that of the boundary that opens the
    shot (1.0 for the first shot). `transition_start_frame`/`transition_end_frame` span the
    transition that opens it ([N, N) for a cut at N; a fade's span covers the fade out, the black
    and the fade in), so an editor sees the whole dissolve, not only where the shot was split.
    """

    index: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    timecode_in: str
    timecode_out: str
    transition_in: ShotEntry
    confidence: float
    transition_start_frame: int
    transition_end_frame: int


@dataclass(frozen=True)
class ShotResult:
    """Everything one run of the detector found in one clip."""

    shots: tuple[Shot, ...]
    transitions: tuple[Transition, ...]
    frame_count: int
    fps: float
    duration_s: float
    start_timecode: str
    drop_frame: bool
    model: str = MODEL_NAME
    model_version: str = MODEL_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (the asset record's `shots` entries use the same field names)."""
        return asdict(self)
