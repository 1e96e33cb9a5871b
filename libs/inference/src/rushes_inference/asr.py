"""Speech to text through the Triton `whisper` model (models/whisper): tensors in, a JSON document out."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from rushes_inference.client import TritonClient
from rushes_inference.errors import InferenceError

WHISPER_MODEL = "whisper"
SAMPLE_RATE = 16_000


def whisper_inputs(
    audio: np.ndarray,
    *,
    language: str | None = None,
    initial_prompt: str | None = None,
    hotwords: str | None = None,
    beam_size: int | None = None,
    vad_filter: bool | None = None,
) -> dict[str, np.ndarray]:
    """The request tensors; options left as None are not sent, so the model's defaults apply."""
    if not isinstance(audio, np.ndarray) or audio.ndim != 1:
        shape = list(audio.shape) if isinstance(audio, np.ndarray) else type(audio).__name__
        raise ValueError(f"audio must be a 1-D numpy array of 16 kHz mono samples, got {shape}")
    if not np.issubdtype(audio.dtype, np.floating):
        raise ValueError(f"audio must hold float samples in [-1, 1], got dtype {audio.dtype}")
    inputs: dict[str, np.ndarray] = {"AUDIO": np.ascontiguousarray(audio, dtype=np.float32)}
    for name, text in (("LANGUAGE", language), ("INITIAL_PROMPT", initial_prompt), ("HOTWORDS", hotwords)):
        if text is not None:
            inputs[name] = np.array([text.encode("utf-8")], dtype=np.object_)
    if beam_size is not None:
        inputs["BEAM_SIZE"] = np.array([beam_size], dtype=np.int32)
    if vad_filter is not None:
        inputs["VAD_FILTER"] = np.array([vad_filter], dtype=np.bool_)
    return inputs


async def transcribe(
    client: TritonClient,
    audio: np.ndarray,
    *,
    language: str | None = None,
    initial_prompt: str | None = None,
    hotwords: str | None = None,
    beam_size: int | None = None,
    vad_filter: bool | None = None,
    model: str = WHISPER_MODEL,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Transcribe 16 kHz mono float samples. Returns the model's document: language,
    language_probability, duration, text, segments, words, model, model_version.
    Raises ModelUnavailable (retry later) or InferenceError (bad audio or options)."""
    try:
        inputs = whisper_inputs(
            audio,
            language=language,
            initial_prompt=initial_prompt,
            hotwords=hotwords,
            beam_size=beam_size,
            vad_filter=vad_filter,
        )
    except ValueError as exc:
        raise InferenceError(f"model {model!r}: {exc}", model=model) from None
    outputs = await client.infer(model, inputs, ["TRANSCRIPT"], timeout_s=timeout_s)
    return parse_transcript(model, outputs["TRANSCRIPT"])


def parse_transcript(model: str, tensor: np.ndarray) -> dict[str, Any]:
    if tensor.size != 1:
        raise InferenceError(
            f"model {model!r} returned {tensor.size} TRANSCRIPT elements, expected 1", model=model
        )
    raw = tensor.reshape(-1)[0]
    try:
        document = json.loads(raw if isinstance(raw, str) else bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InferenceError(
            f"model {model!r} returned a TRANSCRIPT that is not JSON: {exc}", model=model
        ) from None
    if (
        not isinstance(document, dict)
        or not {"text", "segments", "words", "model_version"} <= document.keys()
    ):
        raise InferenceError(
            f"model {model!r} returned a TRANSCRIPT without text/segments/words", model=model
        )
    return document
