"""Triton Python-backend glue for Whisper ASR; the logic lives in asr_logic.py beside this file."""

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
import asr_logic


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        config = json.loads(args["model_config"])
        settings = asr_logic.resolve_settings(
            asr_logic.flatten_parameters(config.get("parameters", {})),
            os.environ,
            instance_kind=args.get("model_instance_kind", "CPU"),
            instance_device_id=int(args.get("model_instance_device_id", 0) or 0),
        )
        self.engine = asr_logic.WhisperEngine(settings)
        pb_utils.Logger.log_info(
            f"whisper loaded {settings.model_name} ({self.engine.model_version}) from {settings.model_path} "
            f"on {settings.device} with {settings.compute_type}"
        )

    def execute(self, requests: list[Any]) -> list[Any]:
        """One response per request; a failed request gets its own error and the others still run."""
        responses = []
        for request in requests:
            try:
                tensors = {name: _input(request, name) for name in asr_logic.INPUT_NAMES}
                document = self.engine.transcribe(self.engine.parse(tensors))
                payload = np.array([asr_logic.transcript_json(document)], dtype=np.object_)
                responses.append(
                    pb_utils.InferenceResponse(
                        output_tensors=[pb_utils.Tensor(asr_logic.OUTPUT_NAME, payload)]
                    )
                )
            except asr_logic.InvalidRequest as exc:
                responses.append(
                    pb_utils.InferenceResponse(
                        error=pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)
                    )
                )
            except Exception as exc:  # the model's fault, not the caller's: INTERNAL, this request only
                responses.append(
                    pb_utils.InferenceResponse(
                        error=pb_utils.TritonError(
                            f"whisper failed: {type(exc).__name__}: {exc}", pb_utils.TritonError.INTERNAL
                        )
                    )
                )
        return responses

    def finalize(self) -> None:
        self.engine = None  # type: ignore[assignment]


def _input(request: Any, name: str) -> np.ndarray | None:
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy()
