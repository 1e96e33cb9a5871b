"""Triton Python-backend glue for the text embedder; the logic lives in embed_logic.py beside this file."""

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
import embed_logic


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        config = json.loads(args["model_config"])
        settings = embed_logic.resolve_settings(
            embed_logic.flatten_parameters(config.get("parameters", {})), os.environ
        )
        self.engine = embed_logic.Embedder(settings)
        pb_utils.Logger.log_info(f"text_embedder loaded {self.engine.model_name}")

    def execute(self, requests: list[Any]) -> list[Any]:
        """One response per request; a failed request gets its own error and the others still run."""
        responses = []
        for request in requests:
            try:
                tensor = pb_utils.get_input_tensor_by_name(request, embed_logic.INPUT_NAME)
                texts = self.engine.parse(None if tensor is None else tensor.as_numpy())
                vectors = self.engine.embed(texts)
                model = np.array([self.engine.model_name.encode()], dtype=np.object_)
                responses.append(
                    pb_utils.InferenceResponse(
                        output_tensors=[
                            pb_utils.Tensor(embed_logic.OUTPUT_NAME, vectors),
                            pb_utils.Tensor(embed_logic.MODEL_OUTPUT_NAME, model),
                        ]
                    )
                )
            except embed_logic.InvalidRequest as exc:
                responses.append(
                    pb_utils.InferenceResponse(
                        error=pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)
                    )
                )
            except Exception as exc:  # the model's fault, not the caller's: INTERNAL, this request only
                responses.append(
                    pb_utils.InferenceResponse(
                        error=pb_utils.TritonError(
                            f"text_embedder failed: {type(exc).__name__}: {exc}",
                            pb_utils.TritonError.INTERNAL,
                        )
                    )
                )
        return responses

    def finalize(self) -> None:
        self.engine = None  # type: ignore[assignment]
