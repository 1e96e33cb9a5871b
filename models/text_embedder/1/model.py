"""Triton Python-backend glue for the text embedder; the logic lives in embed_logic.py beside this file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import triton_python_backend_utils as pb_utils
from rushes_triton_backend import input_array, model_parameters, respond_each, version_tensor

# Import the pure module from beside this file, whatever the stub's sys.path holds.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import embed_logic


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        settings = embed_logic.resolve_settings(model_parameters(args), os.environ)
        self.engine = embed_logic.Embedder(settings)
        self.model = version_tensor(self.engine.model_name)
        pb_utils.Logger.log_info(f"text_embedder loaded {self.engine.model_name}")

    def execute(self, requests: list[Any]) -> list[Any]:
        def answer(request: Any) -> dict[str, Any]:
            texts = self.engine.parse(input_array(pb_utils, request, embed_logic.INPUT_NAME))
            return {
                embed_logic.OUTPUT_NAME: self.engine.embed(texts),
                embed_logic.MODEL_OUTPUT_NAME: self.model,
            }

        return respond_each(
            pb_utils, requests, answer, model="text_embedder", invalid=embed_logic.InvalidRequest
        )

    def finalize(self) -> None:
        self.engine = None  # type: ignore[assignment]
