"""Triton Python-backend glue for super-resolution; the network lives in upscale_logic.py beside this file."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils

# Import the pure module from beside this file, whatever the stub's sys.path holds.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import upscale_logic


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        config = json.loads(args["model_config"])
        settings = upscale_logic.resolve_settings(
            upscale_logic.flatten_parameters(config.get("parameters", {})), os.environ
        )
        self.upscaler = upscale_logic.Upscaler(settings)
        self.version = np.array([self.upscaler.model_version.encode("utf-8")], dtype=np.object_)

    def execute(self, requests: list[Any]) -> list[Any]:
        """One response per request; a failed request gets its own error and the others still run."""
        responses = []
        for request in requests:
            try:
                tensor = pb_utils.get_input_tensor_by_name(request, upscale_logic.INPUT_NAME)
                image = self.upscaler.upscale(None if tensor is None else tensor.as_numpy())
                responses.append(
                    pb_utils.InferenceResponse(
                        output_tensors=[
                            pb_utils.Tensor(upscale_logic.IMAGE_OUTPUT, image),
                            pb_utils.Tensor(upscale_logic.VERSION_OUTPUT, self.version),
                        ]
                    )
                )
            except upscale_logic.InvalidRequest as exc:
                responses.append(
                    pb_utils.InferenceResponse(
                        error=pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)
                    )
                )
            except Exception as exc:  # the model's fault, not the caller's: INTERNAL, this request only
                responses.append(
                    pb_utils.InferenceResponse(
                        error=pb_utils.TritonError(
                            f"upscaler failed: {type(exc).__name__}: {exc}", pb_utils.TritonError.INTERNAL
                        )
                    )
                )
        return responses
