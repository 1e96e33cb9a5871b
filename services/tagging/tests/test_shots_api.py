"""The streaming API, feature extraction across pixel formats, and every way input can be wrong."""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from rushes_tagging.shots import (
    FeatureExtractor,
    ShotDetector,
    ShotDetectorConfig,
    detect_shots,
    features_from_planes,
    features_from_rgb,
)
from rushes_tagging.shots.synthetic import ClipSpec, SceneSpec, catalogue, render_frames, write_clip

SAMPLES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "samples"


def _rendered(spec: ClipSpec) -> tuple[list[np.ndarray], dict]:
    frames, truth = render_frames(spec)
    return list(frames), truth


def _detect_rgb(frames: list[np.ndarray], fps: float = 25.0):
    detector = ShotDetector(fps)
    for index, picture in enumerate(frames):
        detector.push(index, index / fps, features_from_rgb(picture))
    return detector.finish()


def test_streaming_push_gives_the_same_result_as_detect_shots(tmp_path: Path) -> None:
    spec = catalogue(192, 108)["fades_dissolves"]
    path = tmp_path / "clip.mp4"
    write_clip(path, spec)
    expected = detect_shots(path)

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        extract = FeatureExtractor(stream.sample_aspect_ratio)
        detector = ShotDetector(float(stream.average_rate))
        for index, frame in enumerate(container.decode(stream)):
            detector.push(index, float(frame.time), extract(frame))
        streamed = detector.finish(end_s=expected.duration_s)
    assert streamed.shots == expected.shots
    assert streamed.transitions == expected.transitions


def test_uncompressed_pictures_give_exact_boundaries() -> None:
    """Straight from the renderer, no codec in between: a flash right after a cut, a flash that
    builds over two frames, and a cut straddling two frames (a mixed frame, as telecine makes)."""
    scenes = (
        SceneSpec(40, 1, "sky", "pan", "start", flashes=(10, 11)),
        SceneSpec(40, 2, "desert", "zoom", flashes=(3,)),
        SceneSpec(40, 3, "forest", "static"),
    )
    frames, truth = _rendered(ClipSpec(scenes=scenes, width=160, height=90))
    straddled = frames[:]
    straddled[80] = ((frames[79].astype(np.float32) + frames[80].astype(np.float32)) / 2).astype(np.uint8)
    for pictures in (frames, straddled):
        result = _detect_rgb(pictures)
        assert [s.start_frame for s in result.shots[1:]] == truth["cuts"] == [40, 80]
        assert [t.kind for t in result.transitions] == ["cut", "cut"]


def test_a_light_switched_on_is_not_a_cut() -> None:
    frames, _ = _rendered(
        ClipSpec(scenes=(SceneSpec(60, 4, "studio", "static", "start"),), width=160, height=90)
    )
    lit = [
        f if i < 30 else np.clip(f.astype(np.float32) * 1.45 + 20, 0, 255).astype(np.uint8)
        for i, f in enumerate(frames)
    ]
    result = _detect_rgb(lit)
    assert result.transitions == () and len(result.shots) == 1


def test_features_are_the_same_whatever_the_pixel_format() -> None:
    picture = render_frames(
        ClipSpec(scenes=(SceneSpec(2, 7, "forest", "static", "start"),), width=320, height=180, noise=0)
    )[0]
    rgb = next(iter(picture))
    reference = FeatureExtractor()(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p"))
    for fmt in ("yuvj420p", "yuv422p", "yuv444p", "yuv420p10le", "yuv422p10le", "nv12", "rgb24", "bgr24"):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=fmt)
        features = FeatureExtractor()(frame)
        assert features.pixels.shape == reference.pixels.shape, fmt
        assert abs(features.mean - reference.mean) < 0.02, fmt
        assert float(np.abs(features.luma - reference.luma).mean()) < 0.02, fmt
        assert float(np.abs(features.chroma - reference.chroma).mean()) < 0.02, fmt
    planes = features_from_planes(reference.luma, reference.chroma[0], reference.chroma[1])
    assert np.array_equal(planes.pixels, reference.pixels) and planes.peak == reference.peak
    gray = FeatureExtractor()(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="gray"))
    assert abs(gray.mean - reference.mean) < 0.03
    assert np.allclose(gray.chroma, 0.5, atol=0.01)


def test_feature_grid_follows_the_displayed_shape() -> None:
    frame = av.VideoFrame.from_ndarray(np.zeros((180, 320, 3), np.uint8), format="rgb24").reformat(
        format="yuv420p"
    )
    assert FeatureExtractor()(frame).luma.shape == (36, 64)
    assert FeatureExtractor(Fraction(3, 4))(frame).luma.shape[1] < 64  # narrower pixels, narrower picture
    tall = av.VideoFrame.from_ndarray(np.zeros((320, 180, 3), np.uint8), format="rgb24").reformat(
        format="yuv420p"
    )
    assert FeatureExtractor()(tall).luma.shape == (64, 36)


def test_black_and_white_levels_are_normalised_in_both_ranges() -> None:
    for fmt in ("yuv420p", "yuvj420p"):
        black = FeatureExtractor()(
            av.VideoFrame.from_ndarray(np.zeros((72, 128, 3), np.uint8), format="rgb24").reformat(format=fmt)
        )
        white = FeatureExtractor()(
            av.VideoFrame.from_ndarray(np.full((72, 128, 3), 255, np.uint8), format="rgb24").reformat(
                format=fmt
            )
        )
        assert black.mean < 0.01 and black.peak < 0.01, fmt
        assert white.mean > 0.99, fmt


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda d, f: d.push(1, 0.0, f), "expected 0, got 1"),
        (lambda d, f: d.push(0, math.nan, f), "must be finite"),
    ],
)
def test_push_refuses_frames_out_of_order_or_without_time(call, problem: str) -> None:
    detector = ShotDetector(25)
    features = features_from_rgb(np.zeros((36, 64, 3), np.uint8))
    with pytest.raises(ValueError, match=problem):
        call(detector, features)


def test_detector_lifecycle_and_arguments_are_checked() -> None:
    features = features_from_rgb(np.zeros((36, 64, 3), np.uint8))
    detector = ShotDetector(25)
    detector.push(0, 0.0, features)
    result = detector.finish()
    assert len(result.shots) == 1
    with pytest.raises(RuntimeError, match="after finish"):
        detector.push(1, 0.04, features)
    with pytest.raises(RuntimeError, match="already called"):
        detector.finish()
    for fps in (0, -25, math.inf, math.nan):
        with pytest.raises(ValueError, match="fps must be a positive number"):
            ShotDetector(fps)
    with pytest.raises(ValueError, match="does not exist in drop-frame"):
        ShotDetector(29.97, start_timecode="00:01:00;01")
    empty = ShotDetector(25).finish()
    assert empty.shots == () and empty.frame_count == 0


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"cut_floor": 0}, "cut_floor must be a positive number"),
        ({"cut_ratio": 1.0}, "cut_ratio must be above 1"),
        ({"flash_return_ratio": 1.5}, "flash_return_ratio must be below 1"),
        ({"dissolve_scales_s": ()}, "dissolve_scales_s must not be empty"),
        ({"context_s": math.nan}, "context_s must be a positive number"),
    ],
)
def test_config_values_are_validated(changes: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        replace(ShotDetectorConfig(), **changes)


def test_stricter_config_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "cuts.mp4"
    write_clip(path, catalogue(192, 108)["same_location_cuts"])
    assert len(detect_shots(path).shots) == 5
    assert len(detect_shots(path, config=ShotDetectorConfig(cut_floor=0.9)).shots) == 1


def test_bad_files_get_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        detect_shots(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(ValueError, match="could not be opened as media"):
        detect_shots(junk)
    with pytest.raises(ValueError, match="has no video stream"):
        detect_shots(SAMPLES / "recorder.wav")
