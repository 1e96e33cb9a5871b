"""Reading the 16-bit PCM WAVs Rushes writes (ingest's ASR audio) as float samples: whole (short
files) or mapped from disk and read span by span (long recordings)."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_WAV_CHANNELS = 64


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


@dataclass(frozen=True)
class PcmWavFile:
    """A 16-bit PCM WAV mapped from disk, never read whole: long recordings (a 6-hour day of sound
    is 0.7 GB at 16 kHz mono, 1.4 GB as float) stay out of memory until a span is asked for."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    _pcm: np.ndarray  # int16 [frames, channels], a read-only memory map

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    def read(
        self, start_s: float = 0.0, end_s: float | None = None, *, channel: int | None = None
    ) -> np.ndarray:
        """float32 samples in [-1, 1] of [start_s, end_s): one channel, or all mixed down to mono."""
        if channel is not None and not 0 <= channel < self.channels:
            raise ValueError(
                f"{self.path.name} has {self.channels} channel(s); channel {channel} does not exist"
            )
        first = max(0, round(start_s * self.sample_rate))
        last = self.frames if end_s is None else min(self.frames, round(end_s * self.sample_rate))
        block = self._pcm[first : max(first, last)]
        picked = block[:, channel] if channel is not None else block
        samples = picked.astype(np.float32) / 32768.0
        return samples.mean(axis=1) if samples.ndim == 2 else samples

    def blocks(self, seconds: float = 60.0, *, channel: int | None = None) -> Iterator[np.ndarray]:
        """The whole file as consecutive float32 mono blocks of `seconds` (the last one shorter)."""
        step = max(1, int(seconds * self.sample_rate))
        for first in range(0, self.frames, step):
            yield self.read(first / self.sample_rate, (first + step) / self.sample_rate, channel=channel)


def open_pcm_wav(path: Path) -> PcmWavFile:
    """Map a 16-bit PCM WAV (RIFF, little-endian). Raises WavError naming what is wrong: not RIFF/WAVE,
    not PCM, not 16-bit, no data chunk, or a data chunk that claims more bytes than the file has."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = handle.read(12)
            if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
                raise WavError(f"{path.name}: not a RIFF/WAVE file")
            fmt: tuple[int, int, int, int] | None = None
            offset = 12
            while offset + 8 <= size:
                handle.seek(offset)
                chunk_id, chunk_size = handle.read(4), int.from_bytes(handle.read(4), "little")
                body = offset + 8
                if chunk_id == b"fmt ":
                    raw = handle.read(16)
                    if len(raw) < 16:
                        raise WavError(f"{path.name}: truncated fmt chunk")
                    tag, channels, rate = (
                        int.from_bytes(raw[0:2], "little"),
                        int.from_bytes(raw[2:4], "little"),
                        int.from_bytes(raw[4:8], "little"),
                    )
                    fmt = (tag, channels, rate, int.from_bytes(raw[14:16], "little"))
                elif chunk_id == b"data":
                    if fmt is None:
                        raise WavError(f"{path.name}: data chunk before the fmt chunk")
                    return _mapped(path, fmt, body, min(chunk_size, size - body))
                offset = body + chunk_size + (chunk_size & 1)
    except OSError as exc:
        raise WavError(f"{path.name}: unreadable: {exc.strerror or exc}") from None
    raise WavError(f"{path.name}: no data chunk")


def _mapped(path: Path, fmt: tuple[int, int, int, int], offset: int, length: int) -> PcmWavFile:
    tag, channels, rate, bits = fmt
    if tag not in (1, 0xFFFE):  # PCM, or WAVE_FORMAT_EXTENSIBLE (PCM inside for what we write)
        raise WavError(f"{path.name}: not PCM (format tag {tag:#x})")
    if bits != 16:
        raise WavError(f"{path.name}: expected 16-bit PCM, got {bits}-bit")
    if not 1 <= channels <= MAX_WAV_CHANNELS or not 1000 <= rate <= 192_000:
        raise WavError(f"{path.name}: implausible format: {channels} channels at {rate} Hz")
    frames = length // (2 * channels)
    if frames == 0:
        pcm = np.zeros((0, channels), "<i2")
    else:
        pcm = np.memmap(path, dtype="<i2", mode="r", offset=offset, shape=(frames, channels))
    return PcmWavFile(path=path, sample_rate=rate, channels=channels, frames=frames, _pcm=pcm)
