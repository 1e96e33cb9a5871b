"""Triton Python-backend glue for Whisper ASR; the logic lives in asr_logic.py beside this file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils
from rushes_triton_backend import input_array, model_parameters, respond_each

# Import the pure module from beside this file, whatever the stub's sys.path holds.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import asr_logic


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        settings = asr_logic.resolve_settings(
            model_parameters(args),
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
        def answer(request: Any) -> dict[str, Any]:
            tensors = {name: input_array(pb_utils, request, name) for name in asr_logic.INPUT_NAMES}
            document = self.engine.transcribe(self.engine.parse(tensors))
            return {asr_logic.OUTPUT_NAME: np.array([asr_logic.transcript_json(document)], dtype=np.object_)}

        return respond_each(pb_utils, requests, answer, model="whisper", invalid=asr_logic.InvalidRequest)

    def finalize(self) -> None:
        self.engine = None  # type: ignore[assignment]
