"""TritonClient behaviour that needs no Triton: error classification, input conversion, an absent server."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from rushes_config import TritonSettings
from rushes_inference import InferenceError, ModelUnavailable, TritonClient, classify_error, whisper_inputs


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("StatusCode.UNAVAILABLE", "failed to connect", ModelUnavailable),
        ("StatusCode.DEADLINE_EXCEEDED", "Deadline Exceeded", ModelUnavailable),
        ("StatusCode.NOT_FOUND", "Request for unknown model: 'x' is not found", ModelUnavailable),
        ("StatusCode.INTERNAL", "Stub process 'whisper_0_0' is not healthy.", ModelUnavailable),
        ("StatusCode.INVALID_ARGUMENT", "AUDIO is empty", InferenceError),
        ("StatusCode.INTERNAL", "whisper failed: RuntimeError: boom", InferenceError),
        ("StatusCode.RESOURCE_EXHAUSTED", "message larger than max", InferenceError),
        (None, "client-side problem", InferenceError),
    ],
)
def test_errors_split_into_retryable_and_not(
    code: str | None, message: str, expected: type[Exception]
) -> None:
    error = classify_error("whisper", code, message)
    assert type(error) is expected
    assert error.retryable is (expected is ModelUnavailable)
    assert error.model == "whisper"
    assert str(error).startswith("model 'whisper': [") and message in str(error)
    assert error.code == (code or "UNKNOWN").removeprefix("StatusCode.")


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_absent_server_is_not_ready_and_wait_gives_up_with_a_clear_message() -> None:
    url = f"127.0.0.1:{closed_port()}"
    async with TritonClient(TritonSettings(url=url, ready_timeout_s=1.0)) as client:
        assert await client.is_model_ready("whisper") is False
        started = time.monotonic()
        with pytest.raises(ModelUnavailable) as raised:
            await client.wait_model_ready("whisper")
        elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 5.0
    assert f"model 'whisper' not ready on Triton at {url} after 1 s" in str(raised.value)
    assert "UNAVAILABLE" in str(raised.value)


async def test_infer_against_an_absent_server_is_model_unavailable() -> None:
    async with TritonClient(TritonSettings(url=f"127.0.0.1:{closed_port()}", timeout_s=2.0)) as client:
        with pytest.raises(ModelUnavailable, match="UNAVAILABLE"):
            await client.infer("whisper", {"AUDIO": np.zeros(10, np.float32)}, ["TRANSCRIPT"])


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "no inputs given"),
        ({"AUDIO": [0.0, 1.0]}, "input 'AUDIO' must be a numpy array, got list"),
        ({"AUDIO": np.zeros(3, dtype=np.complex64)}, "dtype complex64, which Triton cannot carry"),
    ],
)
async def test_unusable_inputs_fail_before_any_network_call(inputs: dict[str, object], message: str) -> None:
    async with TritonClient(TritonSettings(url=f"127.0.0.1:{closed_port()}")) as client:
        with pytest.raises(InferenceError, match=message):
            await client.infer("whisper", inputs, ["TRANSCRIPT"])  # type: ignore[arg-type]


def test_whisper_inputs_send_only_the_options_given() -> None:
    inputs = whisper_inputs(np.zeros(5, dtype=np.float64), language="en", beam_size=3, vad_filter=False)
    assert sorted(inputs) == ["AUDIO", "BEAM_SIZE", "LANGUAGE", "VAD_FILTER"]
    assert inputs["AUDIO"].dtype == np.float32
    assert inputs["LANGUAGE"].tolist() == [b"en"]
    assert inputs["BEAM_SIZE"].dtype == np.int32 and inputs["VAD_FILTER"].dtype == np.bool_


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (np.zeros((2, 5), np.float32), r"1-D numpy array .* got \[2, 5\]"),
        (np.zeros(5, np.int16), "float samples in \\[-1, 1\\], got dtype int16"),
        ([0.0], "got list"),
    ],
)
def test_whisper_inputs_refuse_audio_that_is_not_float_mono(audio: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        whisper_inputs(audio)  # type: ignore[arg-type]
