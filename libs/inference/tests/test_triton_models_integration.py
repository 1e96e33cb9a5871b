"""The repository's models/ served by a real tritonserver (CPU, Python backend), called via TritonClient."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from inference_media import EVAL_DEV_DIR, decode_audio_16k_mono, face_scene, tone
from rushes_config import TritonSettings
from rushes_inference import InferenceError, ModelUnavailable, TritonClient, detect_faces, transcribe
from rushes_stack.components.tritonserver import TritonServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

JFK = EVAL_DEV_DIR / "jfk.flac"


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]+", " ", text.lower()).split())


@pytest.fixture
async def client(triton_server: TritonServer) -> AsyncIterator[TritonClient]:
    async with TritonClient(TritonSettings(url=triton_server.grpc_url, timeout_s=120.0)) as triton_client:
        yield triton_client


MODEL_REPOSITORY = Path(__file__).resolve().parents[3] / "models"


async def test_every_model_in_the_repository_is_ready(
    client: TritonClient, triton_server: TritonServer
) -> None:
    models = sorted(p.parent.name for p in MODEL_REPOSITORY.glob("*/config.pbtxt"))
    assert {"whisper", "face_detector"} <= set(models)
    for model in models:
        await client.wait_model_ready(model, timeout_s=60)
        assert await client.is_model_ready(model)
    assert triton_server.model_status() == dict.fromkeys(models, "ready")


@pytest.mark.skipif(
    not JFK.is_file(), reason=f"evaluation audio absent: {JFK} (shared/eval/dev not beside the repo)"
)
async def test_transcribes_jfk_with_word_timings(client: TritonClient) -> None:
    audio = decode_audio_16k_mono(JFK)
    document = await transcribe(client, audio)
    assert "ask not what your country can do for you" in normalise(document["text"])
    assert document["language"] == "en"
    assert document["duration"] == pytest.approx(11.0, abs=0.1)
    americans = [w for w in document["words"] if normalise(w["word"]) == "americans"]
    assert len(americans) == 1, document["words"]
    assert abs(americans[0]["start"] - 1.8) <= 0.3, americans[0]
    for word in document["words"]:
        assert 0.0 <= word["start"] <= word["end"] <= document["duration"] + 0.5
        assert 0.0 <= word["probability"] <= 1.0
    for segment in document["segments"]:
        assert {
            "start",
            "end",
            "text",
            "avg_logprob",
            "no_speech_prob",
            "compression_ratio",
        } <= segment.keys()
    assert document["model"] == "whisper-tiny.en" and document["model_version"].endswith("-int8")


async def test_a_tone_gives_a_well_formed_transcript_with_few_words(client: TritonClient) -> None:
    document = await transcribe(
        client, tone(3.0), language="en", beam_size=1, vad_filter=True, hotwords="Rushes"
    )
    assert document["language"] == "en"
    assert document["duration"] == pytest.approx(3.0)
    assert len(document["words"]) <= 3
    assert isinstance(document["segments"], list)
    assert document["model"] == "whisper-tiny.en"


async def test_each_bad_request_fails_alone(client: TritonClient) -> None:
    """Concurrent requests: the bad ones get their own INVALID_ARGUMENT, the good one still succeeds."""
    good = transcribe(client, tone(1.0))
    loud = transcribe(client, tone(1.0, amplitude=30_000.0))
    french = transcribe(client, tone(1.0), language="fr")
    beam = transcribe(client, tone(1.0), beam_size=0)
    results = await asyncio.gather(good, loud, french, beam, return_exceptions=True)
    assert isinstance(results[0], dict) and results[0]["duration"] == pytest.approx(1.0)
    for result, message in zip(
        results[1:], ("AUDIO peak is 30000", "LANGUAGE 'fr'", "BEAM_SIZE 0"), strict=True
    ):
        assert isinstance(result, InferenceError), result
        assert result.code == "INVALID_ARGUMENT" and message in str(result)
        assert result.retryable is False
    assert await client.is_model_ready("whisper")  # the model survived the bad requests


async def test_triton_rejects_tensors_that_do_not_match_the_config(client: TritonClient) -> None:
    with pytest.raises(InferenceError, match="data-type is 'FP64', but model 'whisper' expects 'FP32'"):
        await client.infer("whisper", {"AUDIO": np.zeros(100, np.float64)}, ["TRANSCRIPT"])
    with pytest.raises(InferenceError, match="unexpected inference input 'SOUND'"):
        await client.infer("whisper", {"SOUND": np.zeros(100, np.float32)}, ["TRANSCRIPT"])


async def test_unknown_model_and_short_deadline_are_model_unavailable(client: TritonClient) -> None:
    with pytest.raises(ModelUnavailable, match="NOT_FOUND") as raised:
        await client.infer("no_such_model", {"AUDIO": np.zeros(10, np.float32)}, ["TRANSCRIPT"])
    assert raised.value.retryable is True
    with pytest.raises(
        ModelUnavailable, match=r"model 'no_such_model' not ready on Triton at .* after 0\.3 s"
    ):
        await client.wait_model_ready("no_such_model", timeout_s=0.3)
    # Small work on purpose: the client gives up at its deadline, but Triton finishes the execution.
    with pytest.raises(ModelUnavailable) as deadline:
        await transcribe(client, tone(2.0), beam_size=1, vad_filter=True, timeout_s=0.001)
    assert deadline.value.code == "DEADLINE_EXCEEDED"


async def test_face_detector_blank_face_and_bad_image(client: TritonClient) -> None:
    blank = await detect_faces(client, np.zeros((240, 320, 3), np.uint8))
    assert blank.boxes.shape == (0, 5) and blank.boxes.dtype == np.float32
    assert blank.model_version.startswith("haarcascade_frontalface_default-")

    image, (cx, cy) = face_scene(240, 480, (120, 100))
    found = await detect_faces(client, image)
    assert found.boxes.shape == (1, 5), found.boxes
    x, y, w, h, score = found.boxes[0]
    assert abs(x + w / 2 - cx) < 36 and abs(y + h / 2 - cy) < 36 and 0 < score < 1

    with pytest.raises(InferenceError, match="IMAGE is empty"):
        await detect_faces(client, np.zeros((0, 16, 3), np.uint8))


async def test_the_upscaler_doubles_a_frame(client: TritonClient) -> None:
    import numpy as np
    from rushes_inference import upscale_image

    frame = np.zeros((24, 32, 3), np.uint8)
    frame[:, 16:] = (200, 120, 40)
    result = await upscale_image(client, frame)
    assert result.image_rgb.shape == (48, 64, 3)
    assert result.model == "upscaler" and result.model_version
    right = result.image_rgb[8:40, 40:60].reshape(-1, 3).mean(axis=0)
    assert np.allclose(right, (200, 120, 40), atol=12)  # a flat area stays its colour
