"""models/face_detector/1/face_logic.py outside Triton: validation, detection, box mapping."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest
from inference_media import face_scene


@pytest.fixture(scope="module")
def detector(face_logic: ModuleType) -> object:
    return face_logic.FaceDetector(face_logic.resolve_settings({}, {}))


def assert_one_box_around(boxes: np.ndarray, centre: tuple[float, float], face_size: int) -> None:
    assert boxes.dtype == np.float32 and boxes.shape == (1, 5), boxes
    x, y, w, h, score = boxes[0]
    assert abs(x + w / 2 - centre[0]) < 0.15 * face_size
    assert abs(y + h / 2 - centre[1]) < 0.15 * face_size
    assert 0.5 * face_size < w < 1.2 * face_size
    assert 0.0 < score < 1.0


def test_blank_and_noise_frames_have_no_faces(detector: object) -> None:
    rng = np.random.default_rng(7)
    for image in (np.zeros((480, 640, 3), np.uint8), rng.integers(0, 256, (360, 480, 3), dtype=np.uint8)):
        boxes = detector.detect(image)  # type: ignore[attr-defined]
        assert boxes.shape == (0, 5) and boxes.dtype == np.float32


def test_finds_a_synthetic_face(detector: object) -> None:
    image, centre = face_scene(240, 480, (100, 140))
    assert_one_box_around(detector.detect(image), centre, 240)  # type: ignore[attr-defined]


def test_large_frames_are_analysed_downscaled_but_boxes_are_in_input_pixels(detector: object) -> None:
    image, centre = face_scene(800, 2400, (1300, 900))
    assert_one_box_around(detector.detect(image), centre, 800)  # type: ignore[attr-defined]


def test_tiny_frames_return_no_boxes_instead_of_failing(detector: object) -> None:
    assert detector.detect(np.zeros((10, 10, 3), np.uint8)).shape == (0, 5)  # type: ignore[attr-defined]


def test_model_version_names_cascade_hash_and_opencv(detector: object) -> None:
    version = detector.model_version  # type: ignore[attr-defined]
    assert version.startswith("haarcascade_frontalface_default-") and "-opencv4." in version


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (None, "IMAGE is required"),
        (np.zeros((10, 10, 3), np.float32), "IMAGE must be UINT8"),
        (np.zeros((10, 10), np.uint8), r"shape \[height, width, 3\].*got \[10, 10\]"),
        (np.zeros((10, 10, 4), np.uint8), r"got \[10, 10, 4\]"),
        (np.zeros((0, 10, 3), np.uint8), "IMAGE is empty"),
        (np.zeros((16_385, 1, 3), np.uint8), "at most 16384"),
    ],
)
def test_bad_images_are_refused_naming_the_problem(
    face_logic: ModuleType, image: np.ndarray | None, message: str
) -> None:
    with pytest.raises(face_logic.InvalidRequest, match=message):
        face_logic.parse_image(image)


def test_boxes_are_scaled_clipped_scored_and_sorted(face_logic: ModuleType) -> None:
    rects = np.array([[10, 10, 20, 20], [90, 40, 20, 20]], dtype=np.float32)
    boxes = face_logic.boxes_from_detections(
        rects, np.array([5.0, 10.0]), scale=0.5, score_center=5.0, score_width=2.5, image_size=(200, 100)
    )
    # best first; the second rectangle (x 180..220 at full scale) is clipped to the 200 px width
    np.testing.assert_allclose(boxes[0], [180, 80, 20, 20, 1 / (1 + np.exp(-2))], rtol=1e-6)
    np.testing.assert_allclose(boxes[1], [20, 20, 40, 40, 0.5], rtol=1e-6)
    with pytest.raises(ValueError, match="2 rectangles but 1 level weights"):
        face_logic.boxes_from_detections(
            rects, np.array([1.0]), scale=1, score_center=0, score_width=1, image_size=(10, 10)
        )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cascade": "no_such_cascade.xml"}, "cascade not found"),
        ({"scale_factor": "1.0"}, r"scale_factor=1.0 is outside \[1.01, 2.0\]"),
        ({"min_neighbors": "lots"}, "min_neighbors='lots' is not a number"),
    ],
)
def test_bad_settings_fail_the_load(face_logic: ModuleType, params: dict[str, str], message: str) -> None:
    with pytest.raises(face_logic.InvalidSettings, match=message):
        face_logic.FaceDetector(face_logic.resolve_settings(params, {}))


def test_environment_overrides_parameters(face_logic: ModuleType) -> None:
    settings = face_logic.resolve_settings(
        {"min_neighbors": "5"}, {"RUSHES_FACE_DETECTOR_MIN_NEIGHBORS": "9"}
    )
    assert settings.min_neighbors == 9
