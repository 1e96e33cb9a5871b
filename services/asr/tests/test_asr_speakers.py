"""Per-channel speakers (pure logic): bleed gating, merging and speaker turns."""

from __future__ import annotations

import numpy as np
from rushes_asr.audio import dominant_channel_gates
from rushes_asr.recognizer import Recognition, merge_speakers, speaker_turns


def test_each_frame_belongs_to_the_channels_that_lead_it() -> None:
    a = np.array([-20.0, -20.0, -60.0, -40.0], np.float32)
    b = np.array([-40.0, -23.0, -30.0, -41.0], np.float32)
    gate_a, gate_b = dominant_channel_gates([a, b])
    assert gate_a.tolist() == [True, True, False, True]
    assert gate_b.tolist() == [False, True, True, True]  # within 6 dB of the leader: both
    assert dominant_channel_gates([]) == []


def _words(*items: tuple[str, float]) -> Recognition:
    rec = Recognition(language="en", language_probability=0.9, model="whisper", model_version="1")
    rec.words = [{"word": w, "start_s": s, "end_s": s + 0.3, "probability": 0.9} for w, s in items]
    return rec


def test_speakers_merge_in_time_order_and_turns_are_where_the_speaker_changes() -> None:
    merged = merge_speakers(
        [("Host", _words(("hello", 0.0), ("there", 0.4), ("thanks", 3.0))), ("Guest", _words(("hi", 1.0)))]
    )
    assert [(w["word"], w["speaker"]) for w in merged.words] == [
        ("hello", "Host"), ("there", "Host"), ("hi", "Guest"), ("thanks", "Host"),
    ]  # fmt: skip
    assert speaker_turns(merged.words) == [1.0, 3.0]
    assert merged.language == "en" and merged.model == "whisper"
    assert speaker_turns([{"word": "a", "start_s": 0.0}]) == []
