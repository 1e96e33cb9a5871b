"""Audio handling for ASR: reading the ingest WAV, where the speech is, where long media is cut."""

from __future__ import annotations

import wave
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from rushes_asr.audio import SAMPLE_RATE, AudioError, plan_chunks, read_wav, speech_intervals
from rushes_asr.recognizer import recognise

RNG = np.random.default_rng(7)


def _tone_bursts(spans: list[tuple[float, float]], total_s: float) -> np.ndarray:
    samples = (RNG.normal(0, 0.001, int(total_s * SAMPLE_RATE))).astype(np.float32)
    t = np.arange(samples.size) / SAMPLE_RATE
    for start, end in spans:
        mask = (t >= start) & (t < end)
        samples[mask] += 0.3 * np.sin(2 * np.pi * 220 * t[mask]).astype(np.float32)
    return samples


def test_speech_intervals_find_the_bursts() -> None:
    truth = [(1.0, 2.5), (4.0, 4.8)]
    found = speech_intervals(_tone_bursts(truth, 6.0))
    assert len(found) == 2
    for (start, end), (t_start, t_end) in zip(found, truth, strict=True):
        assert abs(start - t_start) <= 0.05 and abs(end - t_end) <= 0.05


def test_silence_has_no_speech() -> None:
    assert speech_intervals(np.zeros(SAMPLE_RATE * 3, np.float32)) == []
    assert speech_intervals(RNG.normal(0, 0.01, SAMPLE_RATE * 3).astype(np.float32)) == []


def test_long_media_is_cut_in_the_quietest_moment_near_each_target() -> None:
    # Speech everywhere except pauses at 290-291 s and 601-602 s.
    total = 700.0
    spans = [(0.0, 290.0), (291.0, 601.0), (602.0, total)]
    chunks = plan_chunks(_tone_bursts(spans, total), target_s=300.0, search_s=20.0)
    cuts = [c.start_s for c in chunks][1:]
    assert len(cuts) == 2
    assert 290.0 <= cuts[0] <= 291.0 and 601.0 <= cuts[1] <= 602.0  # inside the pauses
    assert chunks[-1].end_s == pytest.approx(total, abs=0.05)
    for before, after in pairwise(chunks):
        assert before.end_s == after.start_s  # contiguous: nothing lost, nothing twice


def test_short_media_is_one_chunk() -> None:
    chunks = plan_chunks(np.zeros(SAMPLE_RATE * 10, np.float32))
    assert len(chunks) == 1 and chunks[0].end_s == pytest.approx(10.0)


async def test_words_of_later_chunks_are_shifted_to_asset_time() -> None:
    samples = _tone_bursts([(0.5, 1.0), (301.0, 302.0)], 320.0)
    chunks = plan_chunks(samples, target_s=300.0, search_s=5.0)
    assert len(chunks) == 2

    async def fake_model(piece: np.ndarray) -> dict:
        # Stands in for the model's document: one word 0.5 s into every chunk.
        return {"language": "en", "language_probability": 0.9, "model": "m", "model_version": "1",
                "words": [{"word": " hi", "start": 0.5, "end": 0.9, "probability": 0.8}]}  # fmt: skip

    result = await recognise(samples, chunks, fake_model)
    assert [w["start_s"] for w in result.words] == [0.5, round(chunks[1].start_s + 0.5, 3)]
    assert result.language == "en" and result.text == "hi hi"


def test_read_wav_refuses_other_formats(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(48000)
        wav.writeframes(b"\x00\x00" * 200)
    with pytest.raises(AudioError, match="16-bit mono 16000 Hz"):
        read_wav(path)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00")
    with pytest.raises(AudioError, match="unreadable"):
        read_wav(broken)
