"""TritonClient: tritonclient.grpc.aio with a deadline on every call and errors a consumer can act on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from types import TracebackType

import numpy as np
import tritonclient.grpc.aio as triton_grpc
from rushes_config import TritonSettings
from tritonclient.utils import InferenceServerException, np_to_triton_dtype

from rushes_inference.errors import InferenceError, ModelUnavailable

READY_PROBE_DEADLINE_S = 5.0
FIRST_BACKOFF_S = 0.05
MAX_BACKOFF_S = 2.0
MAX_GRPC_MESSAGE_BYTES = 2**31 - 1  # what tritonclient sets by default: whole clips travel in one call

# gRPC codes after which the same call may succeed later.
_RETRYABLE_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "NOT_FOUND", "CANCELLED", "ABORTED"})
# A Python backend whose stub process died answers INTERNAL for every request until Triton reloads
# the model (its ready endpoint still says true): that is the model's unavailability, not the input's.
_UNAVAILABLE_MESSAGES = ("is not healthy", "stub process", "failed to load", "has no available versions")


def classify_error(model: str, code: str | None, message: str) -> ModelUnavailable | InferenceError:
    """Map a Triton/gRPC failure to ModelUnavailable (retry later) or InferenceError (do not retry)."""
    short_code = (code or "UNKNOWN").removeprefix("StatusCode.")
    text = f"model {model!r}: [{short_code}] {message}"
    if short_code in _RETRYABLE_CODES or (
        short_code == "INTERNAL" and any(marker in message.lower() for marker in _UNAVAILABLE_MESSAGES)
    ):
        return ModelUnavailable(text, model=model, code=short_code)
    return InferenceError(text, model=model, code=short_code)


def _to_infer_input(model: str, name: str, array: np.ndarray) -> triton_grpc.InferInput:
    if not isinstance(array, np.ndarray):
        raise InferenceError(
            f"model {model!r}: input {name!r} must be a numpy array, got {type(array).__name__}",
            model=model,
        )
    if array.dtype.kind in ("U", "S", "O"):  # text: Triton BYTES, str elements sent as UTF-8
        array = np.array(
            [item.encode("utf-8") if isinstance(item, str) else item for item in array.reshape(-1)],
            dtype=np.object_,
        ).reshape(array.shape)
    triton_dtype = np_to_triton_dtype(array.dtype)
    if triton_dtype is None:
        raise InferenceError(
            f"model {model!r}: input {name!r} has dtype {array.dtype}, which Triton cannot carry", model=model
        )
    infer_input = triton_grpc.InferInput(name, list(array.shape), triton_dtype)
    infer_input.set_data_from_numpy(np.ascontiguousarray(array))
    return infer_input


class TritonClient:
    """One gRPC channel to Triton, opened on first use inside the running event loop.

    Every call carries a deadline: `settings.timeout_s` for inference (override per call), a short
    one for readiness probes. Use `async with TritonClient(...)` or call `close()`.
    """

    def __init__(self, settings: TritonSettings) -> None:
        self.settings = settings
        self._client: triton_grpc.InferenceServerClient | None = None

    def _grpc(self) -> triton_grpc.InferenceServerClient:
        if self._client is None:
            self._client = triton_grpc.InferenceServerClient(
                self.settings.url,
                channel_args=[
                    ("grpc.max_send_message_length", MAX_GRPC_MESSAGE_BYTES),
                    ("grpc.max_receive_message_length", MAX_GRPC_MESSAGE_BYTES),
                    # gRPC's default reconnect backoff grows to 120 s: after Triton restarts, calls
                    # would keep failing long after it is back. Keep reconnect attempts frequent.
                    ("grpc.initial_reconnect_backoff_ms", 100),
                    ("grpc.min_reconnect_backoff_ms", 100),
                    ("grpc.max_reconnect_backoff_ms", 2000),
                ],
            )
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def __aenter__(self) -> TritonClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _model_ready_or_reason(
        self, model: str, deadline_s: float = READY_PROBE_DEADLINE_S
    ) -> str | None:
        """None when ready, else why not (for the message of a later ModelUnavailable)."""
        try:
            ready = await self._grpc().is_model_ready(model, client_timeout=deadline_s)
        except InferenceServerException as exc:
            return str(classify_error(model, exc.status(), exc.message() or str(exc)))
        return None if ready else f"model {model!r} is not ready (loading, unloaded or failed to load)"

    async def is_model_ready(self, model: str) -> bool:
        """True when Triton reports the model ready; False when it is not or Triton cannot be reached."""
        return await self._model_ready_or_reason(model) is None

    async def wait_model_ready(self, model: str, timeout_s: float | None = None) -> None:
        """Poll readiness with exponential backoff; raise ModelUnavailable after `timeout_s`
        (default settings.ready_timeout_s) naming the model, the server and the last reason."""
        budget = self.settings.ready_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + budget
        delay = FIRST_BACKOFF_S
        while True:
            probe_s = max(0.05, min(READY_PROBE_DEADLINE_S, deadline - time.monotonic()))
            reason = await self._model_ready_or_reason(model, probe_s)
            if reason is None:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ModelUnavailable(
                    f"model {model!r} not ready on Triton at {self.settings.url} after {budget:g} s; "
                    f"last check: {reason}",
                    model=model,
                )
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_BACKOFF_S)

    async def infer(
        self,
        model: str,
        inputs: Mapping[str, np.ndarray],
        outputs: Sequence[str],
        timeout_s: float | None = None,
    ) -> dict[str, np.ndarray]:
        """Run one request. `outputs` names the tensors to return (an empty list returns every output).
        Raises ModelUnavailable (retryable) or InferenceError (the request's or the model's fault)."""
        if not inputs:
            raise InferenceError(f"model {model!r}: no inputs given", model=model)
        infer_inputs = [_to_infer_input(model, name, array) for name, array in inputs.items()]
        requested = [triton_grpc.InferRequestedOutput(name) for name in outputs] or None
        deadline_s = self.settings.timeout_s if timeout_s is None else timeout_s
        try:
            result = await self._grpc().infer(
                model, infer_inputs, outputs=requested, client_timeout=deadline_s
            )
        except InferenceServerException as exc:
            raise classify_error(model, exc.status(), exc.message() or str(exc)) from None
        names = list(outputs) or [output.name for output in result.get_response().outputs]
        arrays: dict[str, np.ndarray] = {}
        for name in names:
            array = result.as_numpy(name)
            if array is None:
                raise InferenceError(f"model {model!r} returned no output {name!r}", model=model)
            arrays[name] = array
        return arrays
