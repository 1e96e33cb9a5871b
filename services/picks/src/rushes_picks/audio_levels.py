"""Loudness, clipping and noise floor of a stretch of the asset's audio (the ingest's 16 kHz mono WAV).

Measured on the mono downmix ingest made for ASR: clipping of one channel can be halved by the
downmix, so `clipped_fraction` is a lower bound; levels and the noise floor are faithful enough to
rank takes of the same setup against each other, which is all picks needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# A sample this close to full scale counts as clipped (16-bit PCM tops out at 32767/32768).
CLIP_LEVEL = 0.999
FRAME_S = 0.05
SILENCE_DBFS = -120.0


@dataclass(frozen=True)
class AudioLevels:
    rms_dbfs: float
    peak_dbfs: float
    clipped_fraction: float
    # 10th percentile of 50 ms frame levels: the room tone under the speech.
    noise_floor_dbfs: float


def dbfs(amplitude: float) -> float:
    return SILENCE_DBFS if amplitude <= 1e-6 else max(SILENCE_DBFS, 20.0 * math.log10(amplitude))


def measure_levels(samples: np.ndarray, sample_rate: int, start_s: float, end_s: float) -> AudioLevels | None:
    """Levels of samples[start_s:end_s]; None when the stretch holds no audio (past the end, empty)."""
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be > 0, got {sample_rate}")
    first = max(0, int(start_s * sample_rate))
    last = min(len(samples), math.ceil(end_s * sample_rate))
    if last - first < int(FRAME_S * sample_rate):
        return None
    piece = np.asarray(samples[first:last], dtype=np.float32)
    magnitude = np.abs(piece)
    frame = int(FRAME_S * sample_rate)
    usable = piece[: len(piece) // frame * frame].reshape(-1, frame)
    frame_rms = np.sqrt(np.mean(usable.astype(np.float64) ** 2, axis=1))
    return AudioLevels(
        rms_dbfs=round(dbfs(float(np.sqrt(np.mean(piece.astype(np.float64) ** 2)))), 2),
        peak_dbfs=round(dbfs(float(magnitude.max())), 2),
        clipped_fraction=round(float(np.mean(magnitude >= CLIP_LEVEL)), 6),
        noise_floor_dbfs=round(dbfs(float(np.percentile(frame_rms, 10))), 2),
    )
