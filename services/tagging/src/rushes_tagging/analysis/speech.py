"""Where people speak in a clip's audio: the category's speech-presence cue (interviews talk).

Silero VAD as bundled with faster-whisper (an ONNX file inside the pinned wheel, run on the CPU
through onnxruntime): a 2 MB model that reads an hour of 16 kHz audio in well under a minute, so it
runs in-process rather than as a Triton round trip per chunk. The asr service uses the same model
through Whisper's own VAD filter, so both stages agree on what counts as speech.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

VAD_SAMPLE_RATE = 16000
VAD_MODEL = "silero-vad"
VAD_VERSION = "6"


def speech_spans(samples: np.ndarray, sample_rate: int) -> list[tuple[float, float]]:
    """(start_s, end_s) of every stretch of speech in mono `samples` (float in [-1, 1] or int16)."""
    if sample_rate != VAD_SAMPLE_RATE:
        raise ValueError(
            f"speech detection needs {VAD_SAMPLE_RATE} Hz audio (ingest's WAV), got {sample_rate}"
        )
    audio = np.asarray(samples)
    if audio.dtype.kind == "i":
        audio = audio.astype(np.float32) / float(np.iinfo(audio.dtype).max)
    audio = audio.astype(np.float32, copy=False)
    if audio.ndim != 1:
        raise ValueError(f"speech detection needs mono samples, got shape {list(audio.shape)}")
    if audio.size < VAD_SAMPLE_RATE // 10:
        return []
    from faster_whisper.vad import VadOptions, get_speech_timestamps  # heavy import, only when used

    found = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=300), sampling_rate=sample_rate)
    return [(item["start"] / sample_rate, item["end"] / sample_rate) for item in found]


def speech_fraction(spans: Sequence[tuple[float, float]], start_s: float, end_s: float) -> float:
    """Share of [start_s, end_s) covered by speech."""
    length = end_s - start_s
    if length <= 0:
        return 0.0
    covered = sum(max(0.0, min(end, end_s) - max(start, start_s)) for start, end in spans)
    return min(1.0, covered / length)
