"""Musical tempo (BPM) from audio: autocorrelation of an onset-strength envelope.

The onset strength is the spectral flux (summed rise of log-compressed magnitudes between short
frames) with its slow loudness trend removed; a beat repeats it every period, so its
autocorrelation peaks at the beat period. Lags are weighted by a log-normal prior around 120 BPM
(as in Ellis 2007 / librosa) to choose between a tempo and its double or half, and the peak is
refined by parabolic interpolation. Speech and noise have no periodic onsets: no decision.
"""

from __future__ import annotations

import math

import numpy as np

from .decision import Decision, Evidence, clamp01, rounded

MODEL = "rushes.audio_tempo"
HOP_S = 0.005
WINDOW_S = 0.032
MIN_DURATION_S = 3.0
PRIOR_BPM, PRIOR_OCTAVES = 120.0, 1.0
SILENCE_RMS = 1e-4


def _mono_float(samples: np.ndarray) -> np.ndarray:
    array = np.asarray(samples)
    if array.ndim == 2:
        array = array.mean(axis=1) if array.shape[1] <= 16 else array.mean(axis=0)
    elif array.ndim != 1:
        raise ValueError(
            f"audio samples must be 1-D (mono) or 2-D (samples, channels), got shape {list(array.shape)}"
        )
    if np.issubdtype(array.dtype, np.integer):
        info = np.iinfo(array.dtype)
        return array.astype(np.float64) / max(abs(info.min), info.max)
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"audio samples must be integer or float PCM, got dtype {array.dtype}")
    result = array.astype(np.float64)
    if not np.all(np.isfinite(result)):
        raise ValueError("audio samples contain NaN or infinity")
    return result


def onset_envelope(signal: np.ndarray, sample_rate: int) -> np.ndarray:
    hop = max(1, round(sample_rate * HOP_S))
    size = 1 << math.ceil(math.log2(max(8, sample_rate * WINDOW_S)))
    if len(signal) < size + hop:
        return np.zeros(0)
    count = 1 + (len(signal) - size) // hop
    frames = np.lib.stride_tricks.as_strided(
        signal, shape=(count, size), strides=(signal.strides[0] * hop, signal.strides[0]), writeable=False
    )
    magnitude = np.abs(np.fft.rfft(frames * np.hanning(size), axis=1))
    compressed = np.log1p(1000.0 * magnitude)
    flux = np.maximum(0.0, np.diff(compressed, axis=0)).sum(axis=1)
    trend_taps = max(3, round(0.4 / HOP_S) | 1)
    trend = np.convolve(flux, np.ones(trend_taps) / trend_taps, mode="same")
    return np.maximum(0.0, flux - trend)


def audio_tempo(
    samples: np.ndarray,
    sample_rate: int,
    *,
    min_bpm: float = 40.0,
    max_bpm: float = 240.0,
    min_periodicity: float = 0.3,
) -> Decision | None:
    """Tempo of the music in `samples` (mono or [samples, channels] PCM), or None when the audio is
    too short (< 3 s), silent, or has no periodic onsets (speech, ambience, noise)."""
    if not isinstance(sample_rate, int | np.integer) or not 1000 <= int(sample_rate) <= 768_000:
        raise ValueError(f"sample_rate must be an integer in [1000, 768000] Hz, got {sample_rate!r}")
    if not 0 < min_bpm < max_bpm <= 1000:
        raise ValueError(f"tempo range must satisfy 0 < min_bpm < max_bpm <= 1000, got {min_bpm}..{max_bpm}")
    if not 0.0 < min_periodicity < 1.0:
        raise ValueError(f"min_periodicity must be in (0, 1), got {min_periodicity}")
    signal = _mono_float(samples)
    sample_rate = int(sample_rate)
    if len(signal) < MIN_DURATION_S * sample_rate or float(np.sqrt(np.mean(signal**2))) < SILENCE_RMS:
        return None
    envelope = onset_envelope(signal, sample_rate)
    envelope = envelope - envelope.mean()
    energy = float((envelope**2).sum())
    if energy <= 0:
        return None
    size = 1 << math.ceil(math.log2(2 * len(envelope)))
    spectrum = np.fft.rfft(envelope, size)
    autocorr = np.fft.irfft(spectrum * np.conj(spectrum), size)[: len(envelope)] / energy
    hop_s = max(1, round(sample_rate * HOP_S)) / sample_rate
    lo_lag = math.floor(60.0 / max_bpm / hop_s)
    hi_lag = min(len(autocorr) - 2, math.ceil(60.0 / min_bpm / hop_s))
    if hi_lag <= lo_lag + 2:
        return None
    lags = np.arange(max(1, lo_lag), hi_lag + 1)
    bpms = 60.0 / (lags * hop_s)
    prior = np.exp(-0.5 * (np.log2(bpms / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    weighted = np.maximum(autocorr[lags], 0.0) * prior
    peak = int(lags[int(np.argmax(weighted))])
    periodicity = float(autocorr[peak])
    if periodicity < min_periodicity:
        return None
    left, centre, right = autocorr[peak - 1], autocorr[peak], autocorr[peak + 1]
    curvature = left - 2 * centre + right
    offset = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    bpm = 60.0 / ((peak + float(np.clip(offset, -0.5, 0.5))) * hop_s)

    evidence = Evidence()
    evidence.add("method:onset_autocorrelation")
    evidence.measure("periodicity", periodicity, 3)
    confidence = 0.35 + 0.5 * clamp01((periodicity - min_periodicity) / (0.8 - min_periodicity))
    half = peak // 2
    if half >= 2 and autocorr[half] >= 0.8 * periodicity:
        evidence.add("octave_ambiguous")  # the double tempo is almost as periodic
        confidence = min(confidence, 0.6)
    return Decision(
        value={"bpm": rounded(bpm, 1), "periodicity": rounded(periodicity, 3)},
        confidence=round(confidence, 3),
        reasons=evidence.tags,
        model=MODEL,
    )
