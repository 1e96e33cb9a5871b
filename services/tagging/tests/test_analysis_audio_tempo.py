"""Audio tempo from onset autocorrelation: click tracks of known BPM; no answer without a beat."""

from __future__ import annotations

import numpy as np
import pytest
from rushes_tagging.analysis import audio_tempo
from rushes_tagging.analysis import synthetic as synth


@pytest.mark.parametrize("bpm", [120.0, 92.0, 150.0])
def test_click_track_tempo_within_3_bpm(bpm: float) -> None:
    decision = audio_tempo(synth.click_track(bpm, 10.0), 16000)
    assert decision is not None
    assert decision.value["bpm"] == pytest.approx(bpm, abs=3.0)
    assert decision.confidence >= 0.7
    assert decision.model == "rushes.audio_tempo" and "method:onset_autocorrelation" in decision.reasons


def test_int16_stereo_at_44100_hz() -> None:
    mono = synth.click_track(120.0, 8.0, 44100)
    stereo = (np.stack([mono, mono * 0.5], axis=1) * 30000).astype(np.int16)
    decision = audio_tempo(stereo, 44100)
    assert decision is not None and decision.value["bpm"] == pytest.approx(120.0, abs=3.0)


@pytest.mark.parametrize(
    "samples",
    [
        np.random.default_rng(0).normal(0, 0.1, 160_000).astype(np.float32),  # noise: no periodicity
        np.zeros(160_000, np.float32),  # silence
        synth.click_track(120.0, 2.0),  # too short to trust a period
    ],
    ids=["noise", "silence", "too_short"],
)
def test_no_tempo_without_a_beat(samples: np.ndarray) -> None:
    assert audio_tempo(samples, 16000) is None


@pytest.mark.parametrize(
    ("samples", "rate", "kwargs", "message"),
    [
        (np.zeros(48_000), 0, {}, r"sample_rate must be an integer in \[1000, 768000\] Hz, got 0"),
        (np.zeros(48_000), 16000.5, {}, "sample_rate must be an integer"),
        (np.zeros((4, 4, 4)), 16000, {}, r"1-D \(mono\) or 2-D \(samples, channels\), got shape \[4, 4, 4\]"),
        (np.array([0.0, np.nan] * 30_000), 16000, {}, "NaN or infinity"),
        (np.zeros(48_000, dtype=bool), 16000, {}, "integer or float PCM, got dtype bool"),
        (np.zeros(48_000), 16000, {"min_bpm": 200, "max_bpm": 100}, "0 < min_bpm < max_bpm"),
        (np.zeros(48_000), 16000, {"min_periodicity": 1.5}, r"min_periodicity must be in \(0, 1\)"),
    ],
)
def test_bad_audio_input_is_rejected_clearly(
    samples: np.ndarray, rate: object, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        audio_tempo(samples, rate, **kwargs)  # type: ignore[arg-type]
