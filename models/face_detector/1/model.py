"""Triton Python-backend glue for face detection; the logic lives in face_logic.py beside this file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import triton_python_backend_utils as pb_utils
from rushes_triton_backend import input_array, model_parameters, respond_each, version_tensor

# Import the pure module from beside this file, whatever the stub's sys.path holds.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import face_logic


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        settings = face_logic.resolve_settings(model_parameters(args), os.environ)
        self.detector = face_logic.FaceDetector(settings)
        self.version = version_tensor(self.detector.model_version)

    def execute(self, requests: list[Any]) -> list[Any]:
        def answer(request: Any) -> dict[str, Any]:
            boxes = self.detector.detect(input_array(pb_utils, request, face_logic.INPUT_NAME))
            return {face_logic.BOXES_OUTPUT: boxes, face_logic.VERSION_OUTPUT: self.version}

        return respond_each(
            pb_utils, requests, answer, model="face_detector", invalid=face_logic.InvalidRequest
        )
