"""Per-shot analyzers: pure domain logic (numpy, OpenCV, colour-science), no grpc, nats or Triton.

Feed a `ShotAnalyzer` every decoded frame of a shot in the shot detector's decode pass, then call
`finish()` with the faces the detector found on the sampled frames; every field comes back as a
`Decision` (value, confidence, reasons, model, model_version) plus the raised enhancement `Flag`s
and the keyframe. `audio_tempo()` works on the shot's audio separately.
"""

from __future__ import annotations

from .audio_tempo import audio_tempo
from .config import AnalysisConfig, AnalysisConfigError
from .decision import MODEL_VERSION, Decision, FaceBox, Flag, faces_from_boxes
from .recording import ClipRecording
from .shot_analyzer import AnalysisInputError, RecordedStats, ShotAnalysis, ShotAnalyzer
from .white_balance import warm_up

FIELDS = (
    "shot_type",
    "category",
    "exposure",
    "white_balance",
    "sharpness",
    "shakiness",
    "noise",
    "dominant_colors",
    "technical_cues",
    "pace",
    "mood",
)
"""The `values` keys finish() fills for every shot (audio tempo is folded into `pace`)."""

__all__ = [
    "FIELDS",
    "MODEL_VERSION",
    "AnalysisConfig",
    "AnalysisConfigError",
    "AnalysisInputError",
    "ClipRecording",
    "Decision",
    "FaceBox",
    "Flag",
    "RecordedStats",
    "ShotAnalysis",
    "ShotAnalyzer",
    "audio_tempo",
    "faces_from_boxes",
    "warm_up",
]
