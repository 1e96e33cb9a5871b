"""Triton gRPC client wrapper with deadlines and per-model readiness.

Services never load models in-process: they call Triton through TritonClient and act on two kinds
of failure, ModelUnavailable (retry later) and InferenceError (the request cannot succeed).
"""

from rushes_inference.asr import transcribe, whisper_inputs
from rushes_inference.client import TritonClient, classify_error
from rushes_inference.errors import InferenceError, ModelUnavailable
from rushes_inference.faces import FaceDetections, detect_faces
from rushes_inference.text import TEXT_EMBEDDER_MODEL, embed_texts
from rushes_inference.upscale import UPSCALER_MODEL, Upscaled, upscale_image

__all__ = [
    "TEXT_EMBEDDER_MODEL",
    "UPSCALER_MODEL",
    "FaceDetections",
    "InferenceError",
    "ModelUnavailable",
    "TritonClient",
    "Upscaled",
    "classify_error",
    "detect_faces",
    "embed_texts",
    "transcribe",
    "upscale_image",
    "whisper_inputs",
]
