"""WebVTT writing (by hand: the format is small, and the writer must escape `&`, `<`, `>`) and
reading through `webvtt-py`."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from rushes_asr.subtitles.cue import Cue, check_cues
from rushes_asr.subtitles.errors import SubtitleInputError
from rushes_asr.subtitles.timestamps import clock, parse_clock

_TAG = re.compile(r"<[^>]*>")


def to_webvtt(cues: Sequence[Cue]) -> str:
    """The cues as a WebVTT document, each with its number as identifier."""
    check_cues(cues)
    out = io.StringIO()
    out.write("WEBVTT\n\n")
    for number, cue in enumerate(cues, start=1):
        out.write(f"{number}\n{clock(cue.start_s)} --> {clock(cue.end_s)}\n")
        for line in cue.lines:
            out.write(html.escape(line, quote=False) + "\n")
        out.write("\n")
    return out.getvalue()


def parse_webvtt(text: str) -> list[Cue]:
    """Cues from a WebVTT document (tags dropped, character references decoded)."""
    try:
        captions = list(webvtt.from_string(text))
    except (MalformedCaptionError, MalformedFileError) as error:
        raise SubtitleInputError(f"not a valid WebVTT document: {error}") from error
    cues: list[Cue] = []
    for caption in captions:
        lines = tuple(html.unescape(_TAG.sub("", line)).strip() for line in caption.lines)
        lines = tuple(line for line in lines if line) or ("",)
        cues.append(Cue(parse_clock(caption.start), parse_clock(caption.end), lines))
    return cues
