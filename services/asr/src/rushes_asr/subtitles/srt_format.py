"""SubRip (.srt) writing and reading, through the `srt` library (it handles the format's many
real-world variations when reading delivered files)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import srt

from rushes_asr.subtitles.cue import Cue, check_cues
from rushes_asr.subtitles.errors import SubtitleInputError


def to_srt(cues: Sequence[Cue]) -> str:
    """The cues as an SRT document, numbered from 1, times to the millisecond."""
    check_cues(cues)
    subtitles = [
        srt.Subtitle(
            index=number,
            start=timedelta(milliseconds=round(cue.start_s * 1000)),
            end=timedelta(milliseconds=round(cue.end_s * 1000)),
            content="\n".join(cue.lines),
        )
        for number, cue in enumerate(cues, start=1)
    ]
    return srt.compose(subtitles, reindex=False)


def parse_srt(text: str) -> list[Cue]:
    """Cues from an SRT document; a malformed one is refused with the library's reason."""
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as error:
        raise SubtitleInputError(f"not a valid SRT document: {error}") from error
    cues: list[Cue] = []
    for subtitle in subtitles:
        lines = tuple(line.strip() for line in subtitle.content.split("\n") if line.strip()) or ("",)
        cues.append(Cue(subtitle.start.total_seconds(), subtitle.end.total_seconds(), lines))
    return cues
