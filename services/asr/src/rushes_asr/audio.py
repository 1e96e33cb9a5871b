"""The asset's 16 kHz WAV: reading it, where the speech is, and where to cut long media.

Classic signal processing (no learned model): a frame-energy voice-activity estimate relative to
the file's own noise floor, and chunk boundaries placed in the quietest moment near each target
length, so no word is cut in half and word timings stay stable across chunks.

Long media never sits in memory whole: the WAV is mapped from disk (rushes_media.open_pcm_wav),
its frame energies (50 numbers a second) are computed block by block, and each chunk's samples
are read only while that chunk is transcribed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from rushes_media import PcmWavFile, WavError, open_pcm_wav, read_pcm_wav

SAMPLE_RATE = 16000
FRAME_S = 0.02
MIN_AUDIO_S = 0.5


class AudioError(ValueError):
    """The audio cannot be used (wrong format, too short, corrupt)."""


def read_wav(path: Path) -> np.ndarray:
    """16-bit mono PCM at 16 kHz (what ingest writes) as float32 in [-1, 1]."""
    try:
        wav = read_pcm_wav(path)
    except WavError as exc:
        raise AudioError(str(exc)) from None
    if wav.channels != 1 or wav.sample_rate != SAMPLE_RATE:
        raise AudioError(
            f"expected 16-bit mono {SAMPLE_RATE} Hz PCM, got {wav.channels} ch {wav.sample_rate} Hz"
        )
    return wav.samples


def open_wav(path: Path, *, channels: int | None = 1) -> PcmWavFile:
    """Map a 16-bit PCM WAV at 16 kHz (ingest writes a mono one, and a multi-channel one for
    sources with several channels); `channels` is the count required (None: any)."""
    try:
        wav = open_pcm_wav(path)
    except WavError as exc:
        raise AudioError(str(exc)) from None
    if wav.sample_rate != SAMPLE_RATE or (channels is not None and wav.channels != channels):
        wanted = f"{channels} ch" if channels is not None else "16-bit"
        raise AudioError(
            f"expected {wanted} PCM at {SAMPLE_RATE} Hz, got {wav.channels} ch {wav.sample_rate} Hz"
        )
    return wav


BLOCK_S = 60.0  # energy is computed a minute at a time: bounded memory on any length


def frame_energy_db(samples: np.ndarray) -> np.ndarray:
    hop = int(FRAME_S * SAMPLE_RATE)
    count = len(samples) // hop
    if count == 0:
        return np.zeros(0, np.float32)
    per_block = int(BLOCK_S / FRAME_S)
    out = np.empty(count, np.float32)
    for first in range(0, count, per_block):
        last = min(count, first + per_block)
        frames = np.asarray(samples[first * hop : last * hop], dtype=np.float64).reshape(last - first, hop)
        out[first:last] = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1) + 1e-12))
    return out


def wav_energy_db(wav: PcmWavFile, *, channel: int | None = None) -> np.ndarray:
    """frame_energy_db over a mapped file, a block at a time (blocks are whole frames long)."""
    parts = [frame_energy_db(block) for block in wav.blocks(BLOCK_S, channel=channel)]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def speech_intervals(samples: np.ndarray, **options: float) -> list[tuple[float, float]]:
    """Spans (seconds) of speech in `samples` (see speech_intervals_from_energy)."""
    return speech_intervals_from_energy(frame_energy_db(samples), **options)


def speech_intervals_from_energy(energy: np.ndarray, *, margin_db: float = 12.0, min_speech_s: float = 0.15,
                                 merge_gap_s: float = 0.3, floor_db: float = -60.0) -> list[tuple[float, float]]:  # fmt: skip
    """Spans (seconds) whose energy stands `margin_db` above the noise floor (10th percentile)."""
    if energy.size == 0:
        return []
    noise = max(float(np.percentile(energy, 10)), floor_db)
    active = energy > max(noise + margin_db, floor_db + margin_db)
    spans: list[tuple[float, float]] = []
    start = None
    for i, on in enumerate(np.append(active, False)):
        if on and start is None:
            start = i
        elif not on and start is not None:
            spans.append((start * FRAME_S, i * FRAME_S))
            start = None
    merged: list[tuple[float, float]] = []
    for begin, end in spans:
        if merged and begin - merged[-1][1] <= merge_gap_s:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((begin, end))
    return [(b, e) for b, e in merged if e - b >= min_speech_s]


@dataclass(frozen=True)
class Chunk:
    start_s: float
    end_s: float


def plan_chunks(samples: np.ndarray, *, target_s: float = 300.0, search_s: float = 20.0) -> list[Chunk]:
    """plan_chunks_from_energy for samples in memory."""
    return plan_chunks_from_energy(
        frame_energy_db(samples), len(samples) / SAMPLE_RATE, target_s=target_s, search_s=search_s
    )


def plan_chunks_from_energy(
    energy: np.ndarray, duration: float, *, target_s: float = 300.0, search_s: float = 20.0
) -> list[Chunk]:
    """Cut points near every `target_s`, each moved to the quietest 0.5 s within ±`search_s`."""
    if duration <= target_s + search_s:
        return [Chunk(0.0, duration)]
    window = max(1, int(0.5 / FRAME_S))
    smooth = np.convolve(energy, np.ones(window) / window, mode="same")
    cuts = [0.0]
    while duration - cuts[-1] > target_s + search_s:
        centre = cuts[-1] + target_s
        lo, hi = int((centre - search_s) / FRAME_S), int((centre + search_s) / FRAME_S)
        quietest = lo + int(np.argmin(smooth[lo:hi]))
        cuts.append(quietest * FRAME_S)
    cuts.append(duration)
    return [Chunk(a, b) for a, b in pairwise(cuts)]


def dominant_channel_gates(energies: list[np.ndarray], *, lead_db: float = 6.0) -> list[np.ndarray]:
    """Per channel, the 20 ms frames where it is within `lead_db` of the loudest channel. A lavalier
    also picks up the other speakers faintly (bleed); gating each channel to where it leads keeps
    one speaker's words out of another's transcript."""
    if not energies:
        return []
    length = min(len(e) for e in energies)
    stacked = np.stack([e[:length] for e in energies])
    loudest = stacked.max(axis=0)
    return [row >= loudest - lead_db for row in stacked]


def gated_reader(wav: PcmWavFile, channel: int, gate: np.ndarray) -> Callable[[float, float], np.ndarray]:
    """wav.read for one channel with the frames outside `gate` silenced."""
    hop = int(FRAME_S * SAMPLE_RATE)

    def read(start_s: float, end_s: float) -> np.ndarray:
        samples = wav.read(start_s, end_s, channel=channel)
        first = round(start_s * SAMPLE_RATE)
        frame_of = (first + np.arange(samples.size)) // hop
        keep = gate[np.minimum(frame_of, gate.size - 1)] if gate.size else np.zeros(samples.size, bool)
        return np.where(keep, samples, np.float32(0.0))

    return read
