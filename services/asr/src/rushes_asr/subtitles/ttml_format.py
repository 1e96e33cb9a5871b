"""TTML in the IMSC1 text profile (what broadcasters and streaming platforms ingest), written and
read with the standard library's ElementTree.

The document declares the IMSC1 text profile (`ttp:profile`), its language (`xml:lang`), one
default style and one bottom region, and gives each cue as a `p` with clock-time `begin`/`end`
and `br` between lines.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from rushes_asr.subtitles.cue import Cue, check_cues
from rushes_asr.subtitles.errors import SubtitleInputError
from rushes_asr.subtitles.timestamps import clock

TT_NS = "http://www.w3.org/ns/ttml"
TTP_NS = "http://www.w3.org/ns/ttml#parameter"
TTS_NS = "http://www.w3.org/ns/ttml#styling"
XML_NS = "http://www.w3.org/XML/1998/namespace"
IMSC1_TEXT_PROFILE = "http://www.w3.org/ns/ttml/profile/imsc1/text"
MAX_TTML_BYTES = 20 * 1024 * 1024

ET.register_namespace("ttp", TTP_NS)
ET.register_namespace("tts", TTS_NS)

_OFFSET = re.compile(r"^(\d+(?:\.\d+)?)(h|m|s|ms|f)$")
_CLOCK_FRAMES = re.compile(r"^(\d+):(\d\d):(\d\d)(?:\.(\d+)|:(\d+(?:\.\d+)?))?$")


def _tt(tag: str) -> str:
    return f"{{{TT_NS}}}{tag}"


def _attr(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def to_ttml(cues: Sequence[Cue], language: str = "en") -> str:
    """The cues as an IMSC1 text-profile TTML document in `language` (a BCP-47 tag)."""
    check_cues(cues)
    if not language.strip():
        raise SubtitleInputError("TTML needs a language tag for xml:lang")
    root = ET.Element(
        "tt",
        {
            "xmlns": TT_NS,
            _attr(XML_NS, "lang"): language,
            _attr(TTP_NS, "profile"): IMSC1_TEXT_PROFILE,
            _attr(TTP_NS, "timeBase"): "media",
            _attr(TTP_NS, "cellResolution"): "32 15",
        },
    )
    head = ET.SubElement(root, "head")
    styling = ET.SubElement(head, "styling")
    ET.SubElement(
        styling,
        "style",
        {
            _attr(XML_NS, "id"): "default",
            _attr(TTS_NS, "fontFamily"): "proportionalSansSerif",
            _attr(TTS_NS, "fontSize"): "100%",
            _attr(TTS_NS, "lineHeight"): "125%",
            _attr(TTS_NS, "textAlign"): "center",
            _attr(TTS_NS, "color"): "white",
            _attr(TTS_NS, "backgroundColor"): "black",
        },
    )
    layout = ET.SubElement(head, "layout")
    ET.SubElement(
        layout,
        "region",
        {
            _attr(XML_NS, "id"): "bottom",
            _attr(TTS_NS, "origin"): "10% 10%",
            _attr(TTS_NS, "extent"): "80% 80%",
            _attr(TTS_NS, "displayAlign"): "after",
        },
    )
    body = ET.SubElement(root, "body", {"style": "default", "region": "bottom"})
    div = ET.SubElement(body, "div")
    for number, cue in enumerate(cues, start=1):
        paragraph = ET.SubElement(
            div,
            "p",
            {_attr(XML_NS, "id"): f"c{number}", "begin": clock(cue.start_s), "end": clock(cue.end_s)},
        )
        paragraph.text = cue.lines[0]
        for line in cue.lines[1:]:
            br = ET.SubElement(paragraph, "br")
            br.tail = line
    ET.indent(root, space="  ")
    _unindent_paragraphs(root)
    body_text = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body_text + "\n"


def _unindent_paragraphs(root: ET.Element) -> None:
    """`ET.indent` adds whitespace inside mixed content; inside a `p` that would be shown."""
    for paragraph in root.iter("p"):
        for child in paragraph:
            child.tail = (child.tail or "").strip() if child.tag == "br" else child.tail
        if len(paragraph):
            paragraph[-1].tail = (paragraph[-1].tail or "").rstrip()


def parse_ttml(text: str) -> list[Cue]:
    """Cues from a TTML document: every `p` with `begin` and `end` (or `dur`), lines split at `br`.

    Documents with a DOCTYPE are refused: TTML needs none, and entity declarations are how XML
    input is turned against its reader.
    """
    if len(text.encode("utf-8")) > MAX_TTML_BYTES:
        raise SubtitleInputError(f"TTML document larger than {MAX_TTML_BYTES} bytes")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise SubtitleInputError("TTML document with a DOCTYPE or entity declaration refused")
    try:
        root = ET.fromstring(text.lstrip("\ufeff").encode("utf-8"))  # noqa: S314 - no DOCTYPE (checked above)
    except ET.ParseError as error:
        raise SubtitleInputError(f"not a well-formed TTML document: {error}") from error
    if root.tag != _tt("tt"):
        raise SubtitleInputError(f"not a TTML document: root element is {root.tag!r}, expected tt in {TT_NS}")
    frame_rate = float(root.get(_attr(TTP_NS, "frameRate"), "30"))
    cues: list[Cue] = []
    for number, paragraph in enumerate(root.iter(_tt("p")), start=1):
        begin, end, dur = paragraph.get("begin"), paragraph.get("end"), paragraph.get("dur")
        if begin is None or (end is None and dur is None):
            raise SubtitleInputError(f"TTML paragraph {number} has no begin/end times")
        start_s = _time(begin, frame_rate)
        end_s = _time(end, frame_rate) if end is not None else start_s + _time(str(dur), frame_rate)
        lines = tuple(line.strip() for line in _lines(paragraph)) or ("",)
        cues.append(Cue(start_s, end_s, lines))
    return cues


def _lines(paragraph: ET.Element) -> list[str]:
    lines = [""]

    def walk(element: ET.Element) -> None:
        lines[-1] += element.text or ""
        for child in element:
            if child.tag == _tt("br"):
                lines.append("")
            else:
                walk(child)
            lines[-1] += child.tail or ""

    walk(paragraph)
    return [" ".join(line.split()) for line in lines]


def _time(expression: str, frame_rate: float) -> float:
    """A TTML time expression: clock time (with fraction or frames) or an offset like `1.5s`."""
    value = expression.strip()
    match = _CLOCK_FRAMES.match(value)
    if match:
        hours, minutes, seconds, fraction, frames = match.groups()
        total = float(int(hours) * 3600 + int(minutes) * 60 + int(seconds))
        if fraction:
            total += float("0." + fraction)
        if frames:
            total += float(frames) / frame_rate
        return total
    match = _OFFSET.match(value)
    if match:
        number, unit = float(match.group(1)), match.group(2)
        scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "f": 1.0 / frame_rate}[unit]
        return number * scale
    raise SubtitleInputError(f"unsupported TTML time expression {expression!r}")
