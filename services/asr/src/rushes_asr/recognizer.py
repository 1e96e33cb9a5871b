"""Transcribing a whole asset through Whisper on Triton, chunk by chunk, with stable word times."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from rushes_asr.audio import SAMPLE_RATE, Chunk

TranscribeFn = Callable[[np.ndarray], Awaitable[dict[str, Any]]]
ReadFn = Callable[[float, float], np.ndarray]  # (start_s, end_s) -> float32 mono samples


@dataclass
class Recognition:
    language: str = ""
    language_probability: float = 0.0
    words: list[dict[str, Any]] = field(default_factory=list)  # word, start_s, end_s, probability
    segments: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    model_version: str = ""

    @property
    def text(self) -> str:
        """The segments' text (the model's own spacing and punctuation), else the words joined."""
        from_segments = " ".join(str(s.get("text", "")).strip() for s in self.segments).strip()
        return from_segments or " ".join(str(w["word"]).strip() for w in self.words)


async def recognise(
    audio: np.ndarray | ReadFn,
    chunks: list[Chunk],
    transcribe: TranscribeFn,
    *,
    speech: Sequence[tuple[float, float]] | None = None,
) -> Recognition:
    """Every chunk through `transcribe`; times shifted by the chunk's start (cut in silence, so
    no word straddles two chunks). The language is the most confident chunk's. `audio` is the
    samples, or a reader called for one chunk at a time (long media stays on disk). Chunks with no
    `speech` interval in them (when given) are not sent to the model at all."""
    read: ReadFn = audio if callable(audio) else _slicer(audio)
    result = Recognition()
    best_language_p = -1.0
    for chunk in chunks:
        if speech is not None and not any(b < chunk.end_s and e > chunk.start_s for b, e in speech):
            continue
        piece = read(chunk.start_s, chunk.end_s)
        if piece.size < SAMPLE_RATE // 10:
            continue
        doc = await transcribe(piece)
        result.model = str(doc.get("model", result.model))
        result.model_version = str(doc.get("model_version", result.model_version))
        language_p = float(doc.get("language_probability") or 0.0)
        if language_p > best_language_p and doc.get("language"):
            result.language, result.language_probability = str(doc["language"]), language_p
            best_language_p = language_p
        for word in doc.get("words", []):
            start, end = word.get("start"), word.get("end")
            if start is None or end is None:
                continue
            result.words.append(
                {
                    "word": str(word.get("word", "")),
                    "start_s": round(chunk.start_s + float(start), 3),
                    "end_s": round(chunk.start_s + float(end), 3),
                    "probability": float(word.get("probability") or 0.0),
                }
            )
        for segment in doc.get("segments", []):
            shifted = dict(segment)
            for key in ("start", "end"):
                if shifted.get(key) is not None:
                    shifted[key] = round(chunk.start_s + float(shifted[key]), 3)
            result.segments.append(shifted)
    return result


def _slicer(samples: np.ndarray) -> ReadFn:
    def read(start_s: float, end_s: float) -> np.ndarray:
        return samples[int(start_s * SAMPLE_RATE) : int(end_s * SAMPLE_RATE)]

    return read


def merge_speakers(parts: Sequence[tuple[str, Recognition]]) -> Recognition:
    """One transcript from per-speaker recognitions: words and segments in time order, each word
    and segment labelled with its speaker; the language is the most confident part's."""
    merged = Recognition()
    best = -1.0
    for speaker, part in parts:
        if part.language and part.language_probability > best:
            merged.language, merged.language_probability, best = (
                part.language,
                part.language_probability,
                part.language_probability,
            )
        merged.model = merged.model or part.model
        merged.model_version = merged.model_version or part.model_version
        merged.words.extend({**word, "speaker": speaker} for word in part.words)
        merged.segments.extend({**segment, "speaker": speaker} for segment in part.segments)
    merged.words.sort(key=lambda w: (w["start_s"], w["end_s"]))
    merged.segments.sort(key=lambda s: float(s.get("start") or 0.0))
    return merged


def speaker_turns(words: Sequence[dict[str, Any]]) -> list[float]:
    """Start times of the words where the speaker changes."""
    return [
        float(word["start_s"])
        for previous, word in pairwise(words)
        if word.get("speaker", "") != previous.get("speaker", "")
    ]
