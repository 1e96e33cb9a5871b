"""Shot boundary detection: hard cuts, fades through black and dissolves, with timecodes.

Pure domain logic (PyAV, NumPy, OpenCV; no gRPC, no NATS). Two ways in:

- `detect_shots(path)`: decode a trusted local file once and return a `ShotResult`;
- streaming, for a service that decodes itself: `FeatureExtractor` turns each decoded frame into
  `FrameFeatures`, `ShotDetector.push(index, pts_s, features)` takes them in decode order, and
  `ShotDetector.finish()` returns the `ShotResult`.
"""

from rushes_tagging.shots.config import ShotDetectorConfig
from rushes_tagging.shots.detector import ShotDetector
from rushes_tagging.shots.features import (
    FeatureExtractor,
    FrameFeatures,
    features_from_planes,
    features_from_rgb,
)
from rushes_tagging.shots.model import (
    MODEL_NAME,
    MODEL_VERSION,
    Shot,
    ShotEntry,
    ShotResult,
    Transition,
    TransitionKind,
)
from rushes_tagging.shots.timecode import (
    TimecodeClock,
    TimecodeRate,
    format_timecode,
    parse_timecode,
    timecode_rate,
)
from rushes_tagging.shots.video import detect_shots, file_timecode, main_video_stream, stream_fps

__all__ = [
    "MODEL_NAME",
    "MODEL_VERSION",
    "FeatureExtractor",
    "FrameFeatures",
    "Shot",
    "ShotDetector",
    "ShotDetectorConfig",
    "ShotEntry",
    "ShotResult",
    "TimecodeClock",
    "TimecodeRate",
    "Transition",
    "TransitionKind",
    "detect_shots",
    "features_from_planes",
    "features_from_rgb",
    "file_timecode",
    "format_timecode",
    "main_video_stream",
    "parse_timecode",
    "stream_fps",
    "timecode_rate",
]
