"""The asset's 16 kHz mono WAV: reading it, where the speech is, and where to cut long media.

Classic signal processing (no learned model): a frame-energy voice-activity estimate relative to
the file's own noise floor, and chunk boundaries placed in the quietest moment near each target
length, so no word is cut in half and word timings stay stable across chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from rushes_media import WavError, read_pcm_wav

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


def frame_energy_db(samples: np.ndarray) -> np.ndarray:
    hop = int(FRAME_S * SAMPLE_RATE)
    count = len(samples) // hop
    if count == 0:
        return np.zeros(0, np.float32)
    frames = samples[: count * hop].reshape(count, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    return (20 * np.log10(rms)).astype(np.float32)


def speech_intervals(samples: np.ndarray, *, margin_db: float = 12.0, min_speech_s: float = 0.15,
                     merge_gap_s: float = 0.3, floor_db: float = -60.0) -> list[tuple[float, float]]:  # fmt: skip
    """Spans (seconds) whose energy stands `margin_db` above the noise floor (10th percentile)."""
    energy = frame_energy_db(samples)
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
    """Cut points near every `target_s`, each moved to the quietest 0.5 s within ±`search_s`."""
    duration = len(samples) / SAMPLE_RATE
    if duration <= target_s + search_s:
        return [Chunk(0.0, duration)]
    energy = frame_energy_db(samples)
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
