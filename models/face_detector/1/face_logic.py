"""Face detection for the Triton `face_detector` model: OpenCV's bundled Haar cascade.

Kept free of `triton_python_backend_utils` so it is unit-testable outside Triton. It is a light,
offline detector whose job is shot typing (is there a face, how large is it in the frame); a CNN
detector (e.g. YuNet) can replace it on GPU nodes behind the same tensors.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

INPUT_NAME = "IMAGE"
BOXES_OUTPUT = "BOXES"
VERSION_OUTPUT = "MODEL_VERSION"
MAX_SIDE_ACCEPTED = 16_384  # the same bound as MediaLimits.max_width / max_height
ENV_PREFIX = "RUSHES_FACE_DETECTOR_"


class InvalidRequest(ValueError):
    """The request's fault: answered as INVALID_ARG, never retried."""


class InvalidSettings(ValueError):
    """The model's configuration is wrong: the model fails to load."""


@dataclass(frozen=True)
class FaceDetectorSettings:
    cascade: str  # file name inside cv2.data.haarcascades, or an absolute path
    scale_factor: float  # image pyramid step; smaller finds more faces, slower
    min_neighbors: int  # overlapping hits needed to keep a box; higher = fewer false positives
    min_face_fraction: float  # smallest face side as a fraction of the image's shorter side
    analysis_max_side: int  # images are downscaled to this longest side before detection (speed)
    score_center: float  # level weight that maps to score 0.5
    score_width: float  # level-weight spread of the logistic mapping


def _pick(name: str, parameters: Mapping[str, str], env: Mapping[str, str]) -> str:
    return env.get(ENV_PREFIX + name.upper(), "").strip() or parameters.get(name, "").strip()


def _number(name: str, raw: str, default: float, low: float, high: float) -> float:
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidSettings(f"face_detector setting {name}={raw!r} is not a number") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise InvalidSettings(f"face_detector setting {name}={value} is outside [{low}, {high}]")
    return value


def resolve_settings(parameters: Mapping[str, str], env: Mapping[str, str]) -> FaceDetectorSettings:
    """Settings from env (RUSHES_FACE_DETECTOR_<KEY>) > config.pbtxt parameters > defaults."""
    return FaceDetectorSettings(
        cascade=_pick("cascade", parameters, env) or "haarcascade_frontalface_default.xml",
        scale_factor=_number("scale_factor", _pick("scale_factor", parameters, env), 1.1, 1.01, 2.0),
        min_neighbors=int(_number("min_neighbors", _pick("min_neighbors", parameters, env), 5, 0, 50)),
        min_face_fraction=_number(
            "min_face_fraction", _pick("min_face_fraction", parameters, env), 0.04, 0.0, 1.0
        ),
        analysis_max_side=int(
            _number("analysis_max_side", _pick("analysis_max_side", parameters, env), 960, 64, 8192)
        ),
        score_center=_number("score_center", _pick("score_center", parameters, env), 5.0, -100, 1000),
        score_width=_number("score_width", _pick("score_width", parameters, env), 2.5, 0.01, 1000),
    )


def cascade_path(cascade: str) -> Path:
    bundled = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
    path = Path(cascade) if Path(cascade).is_absolute() else bundled / cascade
    if not path.is_file():
        raise InvalidSettings(f"face_detector cascade not found: {path}")
    return path


def parse_image(image: np.ndarray | None) -> np.ndarray:
    """Validate an IMAGE tensor: UINT8 [H, W, 3] BGR with both sides in [1, 16384]."""
    if image is None:
        raise InvalidRequest("IMAGE is required (UINT8 [height, width, 3], BGR)")
    if image.dtype != np.uint8:
        raise InvalidRequest(f"IMAGE must be UINT8, got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidRequest(f"IMAGE must have shape [height, width, 3] (BGR), got {list(image.shape)}")
    height, width = int(image.shape[0]), int(image.shape[1])
    if height == 0 or width == 0:
        raise InvalidRequest(f"IMAGE is empty ({width}x{height})")
    if height > MAX_SIDE_ACCEPTED or width > MAX_SIDE_ACCEPTED:
        raise InvalidRequest(f"IMAGE is {width}x{height}; each side must be at most {MAX_SIDE_ACCEPTED}")
    return np.ascontiguousarray(image)


class FaceDetector:
    """One loaded cascade. CascadeClassifier is not safe to share across threads; each Triton
    instance has its own stub process and calls detect() serially."""

    def __init__(self, settings: FaceDetectorSettings) -> None:
        path = cascade_path(settings.cascade)
        self.settings = settings
        self.classifier = cv2.CascadeClassifier(str(path))
        if self.classifier.empty():
            raise InvalidSettings(f"face_detector cascade could not be loaded: {path}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self.model_version = f"{path.stem}-{digest}-opencv{cv2.__version__}"

    def detect(self, image: np.ndarray) -> np.ndarray:
        """Boxes as float32 [N, 5]: x, y, w, h in input pixels and a score in (0, 1), best first.

        The score is the cascade's final-stage level weight through a logistic: monotone in the
        detector's certainty but not a calibrated probability; thresholds belong to the caller.
        """
        bgr = parse_image(image)
        height, width = bgr.shape[:2]
        scale = min(1.0, self.settings.analysis_max_side / max(height, width))
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
        if min(gray.shape) < 24:  # smaller than the cascade's 24x24 window: nothing can be found
            return np.zeros((0, 5), dtype=np.float32)
        min_side = max(1, int(min(gray.shape) * self.settings.min_face_fraction))
        rects, _levels, weights = self.classifier.detectMultiScale3(
            gray,
            scaleFactor=self.settings.scale_factor,
            minNeighbors=self.settings.min_neighbors,
            minSize=(min_side, min_side),
            outputRejectLevels=True,
        )
        return boxes_from_detections(
            np.asarray(rects, dtype=np.float32).reshape(-1, 4),
            np.asarray(weights, dtype=np.float32).reshape(-1),
            scale=scale,
            score_center=self.settings.score_center,
            score_width=self.settings.score_width,
            image_size=(width, height),
        )


def boxes_from_detections(
    rects: np.ndarray,
    level_weights: np.ndarray,
    *,
    scale: float,
    score_center: float,
    score_width: float,
    image_size: tuple[int, int],
) -> np.ndarray:
    """Map analysis-scale rectangles back to input pixels, clip to the image, attach scores, sort."""
    if rects.shape[0] != level_weights.shape[0]:
        raise ValueError(f"{rects.shape[0]} rectangles but {level_weights.shape[0]} level weights")
    if rects.shape[0] == 0:
        return np.zeros((0, 5), dtype=np.float32)
    width, height = image_size
    boxes = rects.astype(np.float64) / scale
    x0 = np.clip(boxes[:, 0], 0, width)
    y0 = np.clip(boxes[:, 1], 0, height)
    x1 = np.clip(boxes[:, 0] + boxes[:, 2], 0, width)
    y1 = np.clip(boxes[:, 1] + boxes[:, 3], 0, height)
    scores = 1.0 / (1.0 + np.exp(-(level_weights.astype(np.float64) - score_center) / score_width))
    out = np.stack([x0, y0, x1 - x0, y1 - y0, scores], axis=1).astype(np.float32)
    return out[np.argsort(-out[:, 4], kind="stable")]
