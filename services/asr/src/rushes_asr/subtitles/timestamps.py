"""Clock times as subtitle files write them (`HH:MM:SS,mmm` in SRT, `HH:MM:SS.mmm` elsewhere)."""

from __future__ import annotations

import re

from rushes_asr.subtitles.errors import SubtitleInputError

_CLOCK = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d)(?:[.,](\d{1,3}))?$")


def clock(seconds: float, decimal: str = ".") -> str:
    """`seconds` as HH:MM:SS.mmm (to the nearest millisecond)."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def parse_clock(text: str) -> float:
    """Seconds from `HH:MM:SS.mmm`, `MM:SS.mmm` or the SRT comma form."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise SubtitleInputError(f"not a clock time: {text!r}")
    hours, minutes, seconds, fraction = match.groups()
    millis = int((fraction or "0").ljust(3, "0"))
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + millis / 1000
