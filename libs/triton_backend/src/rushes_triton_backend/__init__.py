"""What every Rushes model on Triton's Python backend shares (models/<name>/1/model.py).

Each model keeps its logic in a pure module beside its model.py (`<x>_logic.py`, tested without
Triton). The glue here is the part that was the same in every model.py: config.pbtxt's parameters
as plain strings, and a batch loop in which each request gets its own response, the caller's fault
is INVALID_ARG, the model's is INTERNAL, and one failed request never fails the others.

`triton_python_backend_utils` only exists inside Triton's Python stub, so it is passed in by the
caller (model.py imports it), never imported here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["flatten_parameters", "input_array", "model_parameters", "respond_each", "version_tensor"]

Outputs = Mapping[str, np.ndarray]


def flatten_parameters(parameters: Mapping[str, Any]) -> dict[str, str]:
    """Triton hands config parameters as {key: {"string_value": v}}; return {key: v}."""
    return {
        key: str(value.get("string_value", "")) if isinstance(value, Mapping) else str(value)
        for key, value in parameters.items()
    }


def model_parameters(args: Mapping[str, Any]) -> dict[str, str]:
    """The parameters of the model's config.pbtxt, from the `args` Triton passes to initialize()."""
    config = json.loads(args["model_config"])
    return flatten_parameters(config.get("parameters", {}))


def input_array(pb_utils: Any, request: Any, name: str) -> np.ndarray | None:
    """The request's input `name` as numpy, None when the caller did not send it (the logic says why)."""
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy()


def respond_each(
    pb_utils: Any,
    requests: Sequence[Any],
    answer: Callable[[Any], Outputs],
    *,
    model: str,
    invalid: type[Exception],
) -> list[Any]:
    """One InferenceResponse per request, in order: `answer(request)`'s named outputs, or the error
    that request alone met (`invalid`: INVALID_ARG with its message; anything else: INTERNAL)."""
    responses = []
    for request in requests:
        try:
            outputs = answer(request)
            tensors = [pb_utils.Tensor(name, array) for name, array in outputs.items()]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        except invalid as exc:
            error = pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)
            responses.append(pb_utils.InferenceResponse(error=error))
        except Exception as exc:  # the model's fault, not the caller's: INTERNAL, this request only
            error = pb_utils.TritonError(
                f"{model} failed: {type(exc).__name__}: {exc}", pb_utils.TritonError.INTERNAL
            )
            responses.append(pb_utils.InferenceResponse(error=error))
    return responses


def version_tensor(version: str) -> np.ndarray:
    """A model version as the one-element BYTES array the clients read."""
    return np.array([version.encode("utf-8")], dtype=np.object_)
