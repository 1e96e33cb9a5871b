"""Reading the 16-bit PCM WAVs Rushes writes (ingest's ASR audio) as float samples."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class WavError(ValueError):
    """The file is not a readable 16-bit PCM WAV."""


@dataclass(frozen=True)
class PcmWav:
    samples: np.ndarray  # float32 in [-1, 1], channels mixed down to mono
    sample_rate: int
    channels: int


def read_pcm_wav(path: Path) -> PcmWav:
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            if width != 2:
                raise WavError(f"{Path(path).name}: expected 16-bit PCM, got {8 * width}-bit")
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, RuntimeError) as exc:  # the stdlib raises all of these on bad files
        raise WavError(f"unreadable WAV: {exc or type(exc).__name__}") from None
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples[: samples.size - samples.size % channels].reshape(-1, channels).mean(axis=1)
    return PcmWav(samples=samples, sample_rate=rate, channels=channels)
