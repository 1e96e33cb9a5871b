"""Triton gRPC client wrapper with deadlines and per-model readiness.

Services never load models in-process: they call Triton through TritonClient and act on two kinds
of failure, ModelUnavailable (retry later) and InferenceError (the request cannot succeed).
"""

from rushes_inference.asr import transcribe, whisper_inputs
from rushes_inference.client import TritonClient, classify_error
from rushes_inference.errors import InferenceError, ModelUnavailable
from rushes_inference.faces import FaceDetections, detect_faces

__all__ = [
    "FaceDetections",
    "InferenceError",
    "ModelUnavailable",
    "TritonClient",
    "classify_error",
    "detect_faces",
    "transcribe",
    "whisper_inputs",
]
