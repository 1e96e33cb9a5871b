"""The three delivered formats by name, for callers that write or read them in a loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rushes_asr.subtitles.cue import Cue
from rushes_asr.subtitles.errors import SubtitleInputError
from rushes_asr.subtitles.srt_format import parse_srt, to_srt
from rushes_asr.subtitles.ttml_format import parse_ttml, to_ttml
from rushes_asr.subtitles.webvtt_format import parse_webvtt, to_webvtt

FORMATS = ("srt", "vtt", "ttml")
"""Format names, also the file extensions and the asset record's `subtitles` keys."""

MEDIA_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt", "ttml": "application/ttml+xml"}

_PARSERS: dict[str, Callable[[str], list[Cue]]] = {"srt": parse_srt, "vtt": parse_webvtt, "ttml": parse_ttml}


def export_all(cues: Sequence[Cue], language: str = "en") -> dict[str, str]:
    """Every format's document for `cues`: {"srt": ..., "vtt": ..., "ttml": ...}."""
    return {"srt": to_srt(cues), "vtt": to_webvtt(cues), "ttml": to_ttml(cues, language)}


def parse_subtitles(text: str, format_name: str) -> list[Cue]:
    """Cues read back from a document in one of `FORMATS`."""
    parser = _PARSERS.get(format_name)
    if parser is None:
        raise SubtitleInputError(f"unknown subtitle format {format_name!r}; known: {', '.join(FORMATS)}")
    return parser(text)
