"""SMPTE timecode: frame counts to HH:MM:SS:FF and back, drop-frame aware.

Drop-frame timecode (29.97 and 59.94 fps) skips frame *labels* 00 and 01 (00-03 at 59.94) at the
start of every minute except each tenth, so the label tracks wall-clock time; no frame is dropped.
Non-drop timecode at those rates counts 30 (60) labels per second and drifts from the clock.
A separator of ';' (or '.' / ',') before the frames field marks drop-frame, ':' non-drop.

Written here rather than taken from the `timecode` package because that package counts frames
from 1 and rejects a zero start, both of which invite off-by-one errors in shot lists.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

_TIMECODE: Final = re.compile(r"^\s*(\d{1,2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})\s*$")
_NTSC_TOLERANCE: Final = 0.005
_VFR_DROP_TOLERANCE: Final = 0.05


@dataclass(frozen=True)
class TimecodeRate:
    """How a stream's frames are labelled: the exact rate, labels per second, drop-frame or not."""

    fps: Fraction
    nominal: int
    drop_frame: bool

    @property
    def dropped_per_minute(self) -> int:
        return self.nominal // 15 if self.drop_frame else 0  # 2 at 29.97, 4 at 59.94

    @property
    def frames_per_day(self) -> int:
        minutes = 24 * 60
        return self.nominal * 60 * minutes - self.dropped_per_minute * (minutes - minutes // 10)


def timecode_rate(fps: float | Fraction, drop_frame: bool | None = None) -> TimecodeRate:
    """The labelling for `fps`. `drop_frame=None` means drop-frame at 29.97/59.94, else non-drop.

    Rates within 0.005 of an NTSC rate (N * 1000/1001) are taken as exactly that rate. Asking
    for drop-frame at a rate within 5% of 29.97 or 59.94 (the average of a variable-frame-rate
    stream, such as 30.7) also selects the NTSC rate: drop-frame labels only exist there.
    """
    value = float(fps)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"frame rate must be a positive number, got {fps!r}")
    ntsc_nominal = round(value * 1001 / 1000)
    is_ntsc = abs(value - ntsc_nominal * 1000 / 1001) < _NTSC_TOLERANCE and ntsc_nominal % 6 == 0
    near = [n for n in (30, 60) if abs(value / (n * 1000 / 1001) - 1.0) < _VFR_DROP_TOLERANCE]
    if drop_frame and not is_ntsc and near:
        is_ntsc, ntsc_nominal = True, near[0]
    if is_ntsc:
        exact, nominal = Fraction(ntsc_nominal * 1000, 1001), ntsc_nominal
    else:
        nominal = max(1, round(value))
        exact = Fraction(fps) if isinstance(fps, Fraction) else Fraction(value).limit_denominator(1001)
    drop_capable = is_ntsc and nominal in (30, 60)
    if drop_frame is None:
        drop_frame = drop_capable
    elif drop_frame and not drop_capable:
        raise ValueError(f"drop-frame timecode exists only at 29.97 and 59.94 fps, not at {value:g} fps")
    return TimecodeRate(fps=exact, nominal=nominal, drop_frame=drop_frame)


def parse_timecode(text: str, rate: TimecodeRate) -> int:
    """Frames since 00:00:00:00 for the label `text` at `rate` (its separator must match the rate)."""
    match = _TIMECODE.match(text)
    if match is None:
        raise ValueError(f"timecode {text!r} is not HH:MM:SS:FF (or HH:MM:SS;FF for drop-frame)")
    hours, minutes, seconds, separator, frames = match.groups()
    hh, mm, ss, ff = int(hours), int(minutes), int(seconds), int(frames)
    if hh >= 24 or mm >= 60 or ss >= 60:
        raise ValueError(f"timecode {text!r} has hours >= 24, minutes >= 60 or seconds >= 60")
    if ff >= rate.nominal:
        raise ValueError(
            f"timecode {text!r} has frame {ff}, but {rate.nominal} fps labels run 0-{rate.nominal - 1}"
        )
    marks_drop = separator != ":"
    if marks_drop and not rate.drop_frame:
        raise ValueError(f"timecode {text!r} is drop-frame (';'), but the rate is non-drop")
    drop = rate.dropped_per_minute
    if drop and ss == 0 and mm % 10 != 0 and ff < drop:
        raise ValueError(
            f"timecode {text!r} does not exist in drop-frame counting (labels 0-{drop - 1} are skipped)"
        )
    total_minutes = 60 * hh + mm
    return ((hh * 3600 + mm * 60 + ss) * rate.nominal + ff) - drop * (total_minutes - total_minutes // 10)


def format_timecode(frames: int, rate: TimecodeRate) -> str:
    """The label of frame number `frames` (since 00:00:00:00), wrapping at 24 hours."""
    frames %= rate.frames_per_day
    drop = rate.dropped_per_minute
    if drop:
        per_ten_minutes = rate.nominal * 600 - drop * 9
        per_minute = rate.nominal * 60 - drop
        tens, rest = divmod(frames, per_ten_minutes)
        frames += drop * 9 * tens
        if rest > drop:
            frames += drop * ((rest - drop) // per_minute)
    ff = frames % rate.nominal
    seconds_total = frames // rate.nominal
    ss, minutes_total = seconds_total % 60, seconds_total // 60
    mm, hh = minutes_total % 60, (minutes_total // 60) % 24
    separator = ";" if rate.drop_frame else ":"
    return f"{hh:02d}:{mm:02d}:{ss:02d}{separator}{ff:02d}"


@dataclass(frozen=True)
class TimecodeClock:
    """Labels for times since the first frame of a clip whose first frame carries `start`."""

    rate: TimecodeRate
    start_frames: int = 0

    @classmethod
    def for_stream(
        cls, fps: float | Fraction, start: str | None = None, drop_frame: bool | None = None
    ) -> TimecodeClock:
        """A clock at `fps` starting at label `start` (default 00:00:00:00).

        When `drop_frame` is None the start label's separator decides (';' drop, ':' non-drop);
        without a start label, 29.97/59.94 default to drop-frame.
        """
        if start is not None and drop_frame is None:
            match = _TIMECODE.match(start)
            if match is None:
                raise ValueError(f"start timecode {start!r} is not HH:MM:SS:FF (or HH:MM:SS;FF)")
            drop_frame = match.group(4) != ":"
        rate = timecode_rate(fps, drop_frame)
        return cls(rate, parse_timecode(start, rate) if start is not None else 0)

    def at_frame(self, offset: int) -> str:
        """Label of the frame `offset` frames after the first one (constant frame rate)."""
        return format_timecode(self.start_frames + offset, self.rate)

    def at_seconds(self, seconds: float) -> str:
        """Label of the frame shown `seconds` after the first one (variable frame rate safe)."""
        if not math.isfinite(seconds):
            raise ValueError(f"time must be finite, got {seconds!r}")
        return self.at_frame(round(seconds * float(self.rate.fps)))
