"""SRT, WebVTT and TTML (IMSC1 text profile): written here, read back by the reference libraries
(`srt`, `webvtt-py`, ElementTree), and bad documents refused with a reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import srt
import webvtt
from rushes_asr.subtitles import (
    FORMATS,
    IMSC1_TEXT_PROFILE,
    Cue,
    SubtitleInputError,
    build_cues,
    export_all,
    parse_srt,
    parse_subtitles,
    parse_ttml,
    parse_webvtt,
    to_srt,
    to_ttml,
    to_webvtt,
)
from rushes_asr.subtitles.synthetic import synthetic_speech

TT = "{http://www.w3.org/ns/ttml}"
TTP = "{http://www.w3.org/ns/ttml#parameter}"
XML = "{http://www.w3.org/XML/1998/namespace}"

CUES = [
    Cue(0.48, 3.88, ("Fish & chips <tonight>,", "said Mary Jones.")),
    Cue(3.96, 5.0, ("Yes.",)),
    Cue(3661.04, 3663.5, ("An hour later: «ça va?»",)),
]


def test_srt_is_read_back_by_the_srt_library() -> None:
    document = to_srt(CUES)
    subtitles = list(srt.parse(document))
    assert [s.index for s in subtitles] == [1, 2, 3]
    assert subtitles[0].start == timedelta(milliseconds=480) and subtitles[0].end == timedelta(
        milliseconds=3880
    )
    assert subtitles[2].start == timedelta(hours=1, minutes=1, seconds=1, milliseconds=40)
    assert subtitles[0].content == "Fish & chips <tonight>,\nsaid Mary Jones."
    assert "00:00:00,480 --> 00:00:03,880" in document
    assert parse_srt(document) == CUES


def test_webvtt_is_read_back_by_webvtt_py_with_markup_escaped() -> None:
    document = to_webvtt(CUES)
    assert document.startswith("WEBVTT\n\n")
    assert "Fish &amp; chips &lt;tonight&gt;," in document  # a raw < would open a tag
    captions = list(webvtt.from_string(document))
    assert [(c.start, c.end) for c in captions] == [
        ("00:00:00.480", "00:00:03.880"),
        ("00:00:03.960", "00:00:05.000"),
        ("01:01:01.040", "01:01:03.500"),
    ]
    assert captions[1].lines == ["Yes."]
    assert parse_webvtt(document) == CUES


def test_ttml_declares_the_imsc1_text_profile_and_parses_with_elementtree() -> None:
    document = to_ttml(CUES, language="en-GB")
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(document.encode("utf-8"))
    assert root.tag == f"{TT}tt"
    assert root.get(f"{TTP}profile") == IMSC1_TEXT_PROFILE
    assert root.get(f"{XML}lang") == "en-GB"
    assert root.find(f"{TT}head/{TT}styling/{TT}style") is not None
    region = root.find(f"{TT}head/{TT}layout/{TT}region")
    assert region is not None and region.get(f"{XML}id") == "bottom"
    body = root.find(f"{TT}body")
    assert body is not None and body.get("region") == "bottom"
    paragraphs = root.findall(f".//{TT}p")
    assert [(p.get("begin"), p.get("end")) for p in paragraphs] == [
        ("00:00:00.480", "00:00:03.880"),
        ("00:00:03.960", "00:00:05.000"),
        ("01:01:01.040", "01:01:03.500"),
    ]
    first = paragraphs[0]
    assert first.text == "Fish & chips <tonight>,"
    assert [child.tag for child in first] == [f"{TT}br"]
    assert first[0].tail == "said Mary Jones."
    assert parse_ttml(document) == CUES


def test_ttml_reader_understands_other_time_expressions_and_spans() -> None:
    document = (
        '<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml#parameter" '
        'ttp:frameRate="25"><body><div>'
        '<p begin="1.5s" dur="1000ms"><span>One</span> <span>two</span><br/>three</p>'
        '<p begin="00:00:04:05" end="00:00:06.000">four</p>'
        "</div></body></tt>"
    )
    assert parse_ttml(document) == [Cue(1.5, 2.5, ("One two", "three")), Cue(4.2, 6.0, ("four",))]


def test_built_cues_survive_every_format() -> None:
    words = synthetic_speech(
        "Good evening and welcome. Tonight, we travel north, to the sea.", chars_per_second=12
    )
    cues = build_cues(words)
    documents = export_all(cues, language="en")
    assert set(documents) == set(FORMATS)
    for name, document in documents.items():
        assert parse_subtitles(document, name) == cues, name


@pytest.mark.parametrize(
    ("name", "document", "needle"),
    [
        ("srt", "1\n00:00:01,000 --> nonsense\nHello\n", "not a valid SRT document"),
        ("vtt", "NOT A VTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n", "not a valid WebVTT document"),
        ("ttml", "<tt xmlns='http://www.w3.org/ns/ttml'><body>", "not a well-formed TTML document"),
        ("ttml", "<html><body/></html>", "root element is 'html'"),
        (
            "ttml",
            '<!DOCTYPE tt [<!ENTITY a "aaaa">]><tt xmlns="http://www.w3.org/ns/ttml"/>',
            "DOCTYPE or entity declaration refused",
        ),
        (
            "ttml",
            '<tt xmlns="http://www.w3.org/ns/ttml"><body><div><p>x</p></div></body></tt>',
            "no begin/end",
        ),
        (
            "ttml",
            '<tt xmlns="http://www.w3.org/ns/ttml"><body><div><p begin="soon" end="1s">x</p></div></body></tt>',
            "unsupported TTML time expression 'soon'",
        ),
        ("ass", "", "unknown subtitle format 'ass'"),
    ],
)
def test_bad_documents_are_refused_with_the_reason(name: str, document: str, needle: str) -> None:
    with pytest.raises(SubtitleInputError, match=needle):
        parse_subtitles(document, name)


def test_writers_refuse_cues_out_of_order_and_ttml_without_language() -> None:
    with pytest.raises(SubtitleInputError, match="cue 2 starts before cue 1"):
        to_srt([Cue(5.0, 6.0, ("b",)), Cue(1.0, 2.0, ("a",))])
    with pytest.raises(SubtitleInputError, match="xml:lang"):
        to_ttml(CUES, language=" ")


@pytest.mark.parametrize(
    ("start", "end", "lines", "needle"),
    [
        (2.0, 1.0, ("x",), "end after it starts"),
        (-1.0, 1.0, ("x",), "start at 0 or later"),
        (0.0, float("inf"), ("x",), "non-finite"),
        (0.0, 1.0, (), "one or more single-line strings"),
        (0.0, 1.0, ("a\nb",), "one or more single-line strings"),
    ],
)
def test_bad_cues_are_refused(start: float, end: float, lines: tuple[str, ...], needle: str) -> None:
    with pytest.raises(SubtitleInputError, match=needle):
        Cue(start, end, lines)
