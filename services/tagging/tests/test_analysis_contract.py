"""The analyzers' plain result types and their configuration reject bad input with clear errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from rushes_tagging.analysis import (
    AnalysisConfig,
    AnalysisConfigError,
    Decision,
    FaceBox,
    Flag,
    faces_from_boxes,
)


def test_default_config_is_valid_and_ordered() -> None:
    config = AnalysisConfig()
    assert config.wide_ratio < config.medium_ratio < config.close_up_ratio < config.extreme_close_up_ratio
    assert config.under_mean_luma < config.over_mean_luma
    assert config.delivery_short_side == 1080


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stats_every_n_frames": 0}, r"stats_every_n_frames must be in \[1, 1000\], got 0"),
        ({"stats_every_n_frames": 2.5}, "stats_every_n_frames must be an integer"),
        ({"denoise_sigma": float("nan")}, "denoise_sigma must be a finite number"),
        ({"min_face_score": 1.5}, r"min_face_score must be in \[0.0, 1.0\]"),
        ({"clip_level": True}, "clip_level must be a finite number"),
        ({"under_mean_luma": 0.8}, r"under_mean_luma \(0.8\) must be below AnalysisConfig.over_mean_luma"),
        ({"medium_ratio": 0.5}, r"medium_ratio \(0.5\) must be below AnalysisConfig.close_up_ratio"),
        ({"fast_shot_s": 10.0}, "fast_shot_s .* must be below AnalysisConfig.slow_shot_s"),
        ({"dominant_colours": 0}, r"dominant_colours must be in \[1, 16\]"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(AnalysisConfigError, match=message):
        dataclasses.replace(AnalysisConfig(), **changes)


def test_decision_accepts_plain_json_and_round_trips_to_dict() -> None:
    decision = Decision(
        value={"kelvin": 5600, "tint": 0.01, "list": [1, "a", None]},
        confidence=0.7,
        reasons=["x=1"],
        model="m",
    )
    assert decision.to_dict() == {
        "value": {"kelvin": 5600, "tint": 0.01, "list": [1, "a", None]},
        "confidence": 0.7,
        "reasons": ["x=1"],
        "model": "m",
        "model_version": "1.0.0",
    }


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"value": np.float32(1.0)}, TypeError, r"m.value is not JSON-able: float32"),
        ({"value": {"a": [np.int64(3)]}}, TypeError, r"m.value.a\[0\] is not JSON-able"),
        ({"value": {1: "x"}}, TypeError, "non-string key"),
        ({"value": float("inf")}, TypeError, "not a finite number"),
        ({"confidence": 1.2}, ValueError, r"confidence must be a number in \[0, 1\], got 1.2"),
        ({"confidence": -0.1}, ValueError, "confidence must be a number"),
        ({"reasons": []}, ValueError, "reasons must be a non-empty list"),
        ({"reasons": [""]}, ValueError, "reasons must be a non-empty list"),
        ({"model_version": ""}, ValueError, "needs a model name and a model version"),
    ],
)
def test_decision_rejects_values_protobuf_could_not_carry(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    base: dict[str, object] = {
        "value": 1,
        "confidence": 0.5,
        "reasons": ["r"],
        "model": "m",
        "model_version": "1",
    }
    with pytest.raises(error, match=message):
        Decision(**{**base, **kwargs})  # type: ignore[arg-type]


def test_flag_to_dict_carries_measure_and_threshold() -> None:
    flag = Flag("needs_denoise", 4.2, 2.5, "noise sigma 4.20 > 2.5")
    assert flag.to_dict() == {
        "name": "needs_denoise",
        "measured": 4.2,
        "threshold": 2.5,
        "reason": "noise sigma 4.20 > 2.5",
    }


def test_face_boxes_from_the_detector_output_are_normalised() -> None:
    boxes = np.array([[96, 27, 48, 54, 0.9], [0, 0, 480, 270, 0.2]], dtype=np.float32)
    faces = faces_from_boxes(boxes, frame_width=480, frame_height=270)
    first = faces[0]
    assert (first.x, first.y, first.w, first.h, first.score) == pytest.approx((0.2, 0.1, 0.1, 0.2, 0.9))
    assert faces[1].h == pytest.approx(1.0)
    assert faces[0].centre == pytest.approx((0.25, 0.2))
    assert faces_from_boxes(np.zeros((0, 5), np.float32), frame_width=480, frame_height=270) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: FaceBox(0.1, 0.1, 0.0, 0.2), r"w and h must be normalised fractions in \(0, 4\]"),
        (lambda: FaceBox(0.1, 0.1, 120.0, 80.0), "w and h must be normalised"),
        (lambda: FaceBox(5.0, 0.1, 0.1, 0.2), "x and y must be normalised"),
        (lambda: FaceBox(0.1, 0.1, 0.1, 0.2, score=1.5), r"score must be in \[0, 1\]"),
        (lambda: FaceBox(float("nan"), 0.1, 0.1, 0.2), "x must be finite"),
        (
            lambda: FaceBox.from_pixels(1, 1, 1, 1, 0.5, frame_width=0, frame_height=10),
            "frame size must be positive",
        ),
        (
            lambda: faces_from_boxes(np.zeros((2, 4)), frame_width=10, frame_height=10),
            r"shape \[N, 5\].*got \[2, 4\]",
        ),
    ],
)
def test_face_boxes_reject_bad_input(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
