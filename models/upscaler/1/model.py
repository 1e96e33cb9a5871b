"""Triton Python-backend glue for super-resolution; the network lives in upscale_logic.py beside this file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import triton_python_backend_utils as pb_utils
from rushes_triton_backend import input_array, model_parameters, respond_each, version_tensor

# Import the pure module from beside this file, whatever the stub's sys.path holds.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import upscale_logic


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        settings = upscale_logic.resolve_settings(model_parameters(args), os.environ)
        self.upscaler = upscale_logic.Upscaler(settings)
        self.version = version_tensor(self.upscaler.model_version)

    def execute(self, requests: list[Any]) -> list[Any]:
        def answer(request: Any) -> dict[str, Any]:
            image = self.upscaler.upscale(input_array(pb_utils, request, upscale_logic.INPUT_NAME))
            return {upscale_logic.IMAGE_OUTPUT: image, upscale_logic.VERSION_OUTPUT: self.version}

        return respond_each(
            pb_utils, requests, answer, model="upscaler", invalid=upscale_logic.InvalidRequest
        )
