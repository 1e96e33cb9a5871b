"""16-bit PCM WAVs: read whole, or mapped and read span by span; malformed files refused by name."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from rushes_media import WavError, open_pcm_wav, read_pcm_wav

RATE = 16000


def _write(path: Path, pcm: np.ndarray, channels: int = 1, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.astype("<i2").tobytes())
    return path


def test_mapped_spans_match_the_whole_read(tmp_path: Path) -> None:
    pcm = (np.sin(np.arange(3 * RATE) / 7.0) * 20000).astype(np.int16)
    path = _write(tmp_path / "mono.wav", pcm)
    mapped, whole = open_pcm_wav(path), read_pcm_wav(path)
    assert (mapped.channels, mapped.sample_rate, mapped.frames) == (1, RATE, 3 * RATE)
    assert mapped.duration_s == pytest.approx(3.0)
    np.testing.assert_array_equal(mapped.read(), whole.samples)
    np.testing.assert_array_equal(mapped.read(1.0, 1.5), whole.samples[RATE : RATE + RATE // 2])
    assert mapped.read(2.9, 99.0).size == RATE // 10  # clipped to the end
    assert sum(block.size for block in mapped.blocks(0.7)) == 3 * RATE


def test_channels_are_read_apart_or_mixed(tmp_path: Path) -> None:
    left = np.full(RATE, 16384, np.int16)
    right = np.full(RATE, -8192, np.int16)
    path = _write(tmp_path / "stereo.wav", np.stack([left, right], axis=1).reshape(-1), channels=2)
    wav = open_pcm_wav(path)
    assert wav.channels == 2
    assert wav.read(channel=0)[0] == pytest.approx(0.5)
    assert wav.read(channel=1)[0] == pytest.approx(-0.25)
    assert wav.read()[0] == pytest.approx(0.125)
    with pytest.raises(ValueError, match="channel 2 does not exist"):
        wav.read(channel=2)


def test_a_data_chunk_claiming_more_than_the_file_is_cut_to_what_exists(tmp_path: Path) -> None:
    path = _write(tmp_path / "short.wav", np.ones(RATE, np.int16))
    raw = bytearray(path.read_bytes())
    raw[40:44] = (10**9).to_bytes(4, "little")  # the data chunk says 1 GB
    path.write_bytes(bytes(raw))
    assert open_pcm_wav(path).frames == RATE


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not a RIFF/WAVE"),
        (b"OggS" + bytes(40), "not a RIFF/WAVE"),
        (b"RIFF\x00\x00\x00\x00WAVE", "no data chunk"),
        (b"RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd", "before the fmt chunk"),
    ],
)
def test_malformed_files_are_refused_by_name(tmp_path: Path, body: bytes, message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(body)
    with pytest.raises(WavError, match=message):
        open_pcm_wav(path)


def test_eight_bit_pcm_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "8bit.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(RATE)
        out.writeframes(bytes(RATE))
    with pytest.raises(WavError, match="expected 16-bit"):
        open_pcm_wav(path)
