"""Project speech settings (pure logic): parsing, validation errors by name, hotword budget."""

from __future__ import annotations

import pytest
from rushes_asr.project_speech import MAX_HOTWORD_CHARS, SpeechSettingsError, parse_speech_settings


def test_yaml_settings_are_read_and_normalised() -> None:
    settings = parse_speech_settings(
        b"language: en\nsubtitle_profile: children\nchannels: separate\nchannel_names: [A, B]\n"
        b"initial_prompt: A documentary about harbours.\n"
        b"glossary:\n  - term: ' Kubernetes '\n    translations: {fr: Kubernetes}\n  - term: dailies\n"
    )
    assert settings.channels == "separate" and settings.subtitle_profile == "children"
    assert settings.hotwords() == "Kubernetes, dailies"
    assert settings.term_translations("fr") == {"Kubernetes": "Kubernetes"}
    assert settings.term_translations("de") == {}
    assert settings.channel_name(1) == "B" and settings.channel_name(5) == "channel 6"
    again = parse_speech_settings(settings.to_json().encode())
    assert again == settings


def test_json_and_empty_files_are_settings_too() -> None:
    assert parse_speech_settings(b'{"language": "fr"}').language == "fr"
    empty = parse_speech_settings(b"")
    assert empty.channels == "mixed" and empty.hotwords() is None


def test_hotwords_stop_at_the_prompt_budget() -> None:
    terms = "".join(f"  - term: term{i:04d}\n" for i in range(300)).encode()
    hotwords = parse_speech_settings(b"glossary:\n" + terms).hotwords()
    assert hotwords is not None and len(hotwords) <= MAX_HOTWORD_CHARS
    assert hotwords.startswith("term0000, term0001")


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"subtitle_profile: toddlers\n", "subtitle_profile"),
        (b"chanels: separate\n", "chanels"),
        (b"channels: stereo\n", "channels"),
        (b"glossary:\n  - term: ''\n", "glossary.0.term"),
        (b"glossary:\n  - term: x\n    translations: {fr: ''}\n", "translations"),
        (b"- just\n- a list\n", "must be a mapping"),
        (b"language: [unclosed\n", "not valid YAML"),
        (b"\xff\xfe l a n g", "not UTF-8"),
        (b"initial_prompt: " + b"x" * 1001 + b"\n", "initial_prompt"),
        (b"#" * (1024 * 1024 + 1), "limit"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(data: bytes, named: str) -> None:
    with pytest.raises(SpeechSettingsError, match=named):
        parse_speech_settings(data)
