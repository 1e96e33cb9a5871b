"""Speech presence for the category: Silero VAD finds the words and ignores tones and silence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rushes_media.wav import read_pcm_wav
from rushes_tagging.analysis.speech import speech_fraction, speech_spans

SPEECH = Path(__file__).resolve().parents[3].parent / "shared" / "eval" / "dev" / "ss01_0870.wav"
RATE = 16000

needs_speech = pytest.mark.skipif(
    not SPEECH.is_file(), reason=f"evaluation speech absent: {SPEECH} (shared/eval/dev not beside the repo)"
)


@needs_speech
def test_speech_after_silence_is_found_where_it_is() -> None:
    speech = read_pcm_wav(SPEECH).samples
    audio = np.concatenate([np.zeros(3 * RATE, np.float32), speech, np.zeros(2 * RATE, np.float32)])
    spans = speech_spans(audio, RATE)
    assert spans, "no speech found in a spoken sentence"
    assert spans[0][0] >= 2.5  # nothing in the leading silence
    assert speech_fraction(spans, 0.0, 2.5) == 0.0  # the VAD pads speech by a few hundred ms
    assert speech_fraction(spans, 3.0, 3.0 + speech.size / RATE) > 0.7


def test_tones_noise_and_silence_are_not_speech() -> None:
    t = np.arange(4 * RATE) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    hiss = np.random.default_rng(0).normal(0, 0.02, 4 * RATE).astype(np.float32)
    audio = np.concatenate([tone, hiss, np.zeros(RATE, np.float32)])
    assert speech_fraction(speech_spans(audio, RATE), 0.0, audio.size / RATE) < 0.1


def test_int16_samples_are_accepted_and_bad_input_is_refused() -> None:
    assert speech_spans(np.zeros(RATE, np.int16), RATE) == []
    with pytest.raises(ValueError, match="16000 Hz"):
        speech_spans(np.zeros(48000, np.float32), 48000)
    with pytest.raises(ValueError, match="mono"):
        speech_spans(np.zeros((RATE, 2), np.float32), RATE)


def test_fraction_of_a_span() -> None:
    spans = [(1.0, 2.0), (3.0, 5.0)]
    assert speech_fraction(spans, 0.0, 4.0) == pytest.approx(0.5)
    assert speech_fraction(spans, 5.0, 5.0) == 0.0
