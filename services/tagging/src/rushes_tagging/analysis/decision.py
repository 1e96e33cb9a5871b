"""The plain results every analyzer returns: a decision, an enhancement flag, a face box.

They mirror `rushes.asset.v1.AiValue` and `ShotFlag` without importing protobuf, so the domain
logic stays testable on its own; the tagging service converts them. A decision's value must be
JSON-able with plain Python types (no numpy scalars), because it becomes a `google.protobuf.Value`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MODEL_VERSION = "1.0.0"
"""One version for every classic-signal analyzer here: bump it when any measurement or threshold
meaning changes, so catalogued decisions can be traced to the code that made them."""


def check_jsonable(value: Any, where: str = "value") -> None:
    """Raise TypeError naming the offending path if `value` is not plain JSON (finite floats only)."""
    if value is None or isinstance(value, bool | str | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where} is not a finite number: {value!r}")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_jsonable(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}")
            check_jsonable(item, f"{where}.{key}")
        return
    raise TypeError(f"{where} is not JSON-able: {type(value).__name__} {value!r}")


@dataclass(frozen=True)
class Decision:
    """One AI/heuristic value with its confidence, reason tags and the model that made it."""

    value: Any
    confidence: float
    reasons: list[str]
    model: str
    model_version: str = MODEL_VERSION

    def __post_init__(self) -> None:
        check_jsonable(self.value, f"{self.model}.value")
        if not (isinstance(self.confidence, float | int) and 0.0 <= self.confidence <= 1.0):
            raise ValueError(f"{self.model}: confidence must be a number in [0, 1], got {self.confidence!r}")
        if not self.reasons or not all(isinstance(r, str) and r for r in self.reasons):
            raise ValueError(f"{self.model}: reasons must be a non-empty list of non-empty strings")
        if not self.model or not self.model_version:
            raise ValueError("a decision needs a model name and a model version")

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "confidence": self.confidence,
            "reasons": list(self.reasons),
            "model": self.model,
            "model_version": self.model_version,
        }


@dataclass(frozen=True)
class Flag:
    """An enhancement flag (needs_stabilization / needs_denoise / needs_upscale) and why it was raised."""

    name: str
    measured: float
    threshold: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": self.measured,
            "threshold": self.threshold,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class FaceBox:
    """A detected face in NORMALISED frame coordinates: x, y, w, h as fractions of the frame's width
    and height (so the detector's input size does not matter), and the detector's score in [0, 1].

    Boxes may stick out of the frame (an extreme close-up's face is taller than the frame)."""

    x: float
    y: float
    w: float
    h: float
    score: float = 1.0

    def __post_init__(self) -> None:
        for name in ("x", "y", "w", "h", "score"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"face box {name} must be finite, got {getattr(self, name)!r}")
        if not (0.0 < self.w <= 4.0 and 0.0 < self.h <= 4.0):
            raise ValueError(
                f"face box w and h must be normalised fractions in (0, 4], got w={self.w}, h={self.h}"
            )
        if not (-2.0 <= self.x <= 2.0 and -2.0 <= self.y <= 2.0):
            raise ValueError(f"face box x and y must be normalised (about 0..1), got x={self.x}, y={self.y}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"face box score must be in [0, 1], got {self.score}")

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    @classmethod
    def from_pixels(
        cls, x: float, y: float, w: float, h: float, score: float, *, frame_width: int, frame_height: int
    ) -> FaceBox:
        """A box in the detector's input pixels (the face_detector model's BOXES rows)."""
        if frame_width <= 0 or frame_height <= 0:
            raise ValueError(f"frame size must be positive, got {frame_width}x{frame_height}")
        return cls(
            float(x) / frame_width,
            float(y) / frame_height,
            float(w) / frame_width,
            float(h) / frame_height,
            float(score),
        )


def faces_from_boxes(boxes: np.ndarray, *, frame_width: int, frame_height: int) -> list[FaceBox]:
    """Convert the face_detector model's float32 [N, 5] output (x, y, w, h in input pixels, score)."""
    array = np.asarray(boxes)
    if array.ndim != 2 or array.shape[1] != 5:
        raise ValueError(f"face boxes must have shape [N, 5] (x, y, w, h, score), got {list(array.shape)}")
    return [
        FaceBox.from_pixels(*map(float, row), frame_width=frame_width, frame_height=frame_height)
        for row in array
    ]


@dataclass
class Evidence:
    """Reason tags collected while deciding, kept in the order they were found."""

    tags: list[str] = field(default_factory=list)

    def add(self, tag: str) -> None:
        self.tags.append(tag)

    def measure(self, name: str, value: float, digits: int = 3) -> None:
        self.tags.append(f"{name}={round(float(value), digits)}")


def clamp01(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def margin_confidence(margin: float, scale: float, *, floor: float, ceiling: float) -> float:
    """Map the distance of a measurement from its nearest decision boundary to a confidence.

    At the boundary the answer is a coin toss tilted by the method (`floor`); `scale` away from it
    the method is as sure as it ever gets (`ceiling`). Heuristic detectors get low ceilings."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    return round(floor + (ceiling - floor) * clamp01(abs(margin) / scale), 3)


def rounded(value: float, digits: int = 4) -> float:
    """A plain Python float, rounded, for JSON values (numpy scalars are rejected by Decision)."""
    return round(float(value), digits)
