"""The per-shot accumulator end to end: every field, the keyframe, flags, pace, and misuse."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from google.protobuf import json_format
from rushes.asset.v1 import asset_pb2
from rushes_tagging.analysis import (
    FIELDS,
    AnalysisConfig,
    AnalysisInputError,
    FaceBox,
    ShotAnalyzer,
    audio_tempo,
)
from rushes_tagging.analysis import synthetic as synth

W, H = 480, 270


def frames(count: int, seed: int = 1) -> list[np.ndarray]:
    base = synth.textured_scene(W, H, seed=seed)
    return [synth.add_gaussian_noise(base, 1.5, seed=i) for i in range(count)]


def test_every_field_is_decided_and_fits_the_proto() -> None:
    result = synth.analyse_frames(frames(20), faces=[FaceBox(0.4, 0.2, 0.17, 0.3, 0.9)], speech_fraction=0.6)
    assert tuple(result.decisions) == FIELDS
    for name, decision in result.decisions.items():
        assert 0.0 <= decision.confidence <= 1.0, name
        assert decision.reasons and decision.model.startswith("rushes.") and decision.model_version == "1.0.0"
        json.dumps(decision.value)  # plain JSON
        message = json_format.ParseDict(decision.to_dict(), asset_pb2.AiValue())
        assert message.model == decision.model
    for flag in result.flags:
        json_format.ParseDict(flag.to_dict(), asset_pb2.ShotFlag())


def test_sampling_follows_stats_every_n_frames_and_push_reports_it() -> None:
    analyzer = ShotAnalyzer(AnalysisConfig(stats_every_n_frames=4), fps=25.0)
    sampled = [analyzer.push(100 + i, 4.0 + i / 25, frame) for i, frame in enumerate(frames(10))]
    assert sampled == [True, False, False, False, True, False, False, False, True, False]
    assert analyzer.sampled_frames == (100, 104, 108)
    result = analyzer.finish()
    assert result.frame_count == 10 and result.sampled_frames == (100, 104, 108)
    assert result.duration_s == pytest.approx(10 / 25)


def test_keyframe_is_the_sharpest_well_exposed_sampled_frame() -> None:
    sharp = frames(24, seed=2)
    shot = [synth.gaussian_blur(f, 3.0) for f in sharp]  # mostly out of focus...
    shot[12] = sharp[12]  # ...but in focus at frame 12
    shot[18] = (sharp[18] * 0.15).astype(np.uint8)  # in focus at 18 too, but far too dark
    shot[0] = sharp[0]  # the first frame is sharp too, but sits in the edge guard
    result = synth.analyse_frames(shot, config=AnalysisConfig(stats_every_n_frames=6))
    assert result.sampled_frames == (0, 6, 12, 18)
    assert result.keyframe_index == 12 and result.keyframe_pts_s == pytest.approx(12 / 25)
    assert np.array_equal(result.keyframe_bgr, sharp[12])


def test_a_single_frame_shot_still_yields_every_field() -> None:
    result = synth.analyse_frames(frames(1))
    assert tuple(result.decisions) == FIELDS and result.keyframe_index == 0
    assert result.decisions["exposure"].confidence <= 0.8  # one sample is thin evidence


@pytest.mark.parametrize(
    ("source", "raised"),
    [((1280, 720), True), ((720, 1280), True), ((1920, 1080), False), ((3840, 2160), False)],
)
def test_needs_upscale_compares_the_source_shorter_side_with_delivery(
    source: tuple[int, int], raised: bool
) -> None:
    result = synth.analyse_frames(frames(3), source_size=source)
    flags = [f for f in result.flags if f.name == "needs_upscale"]
    assert bool(flags) is raised
    if raised:
        assert (flags[0].measured, flags[0].threshold) == (720.0, 1080.0)
        assert "shorter side 720 < delivery 1080" in flags[0].reason


def test_upscale_threshold_comes_from_config() -> None:
    result = synth.analyse_frames(
        frames(3), source_size=(1280, 720), config=AnalysisConfig(delivery_short_side=720)
    )
    assert all(f.name != "needs_upscale" for f in result.flags)


def test_pace_uses_length_motion_and_the_music_tempo() -> None:
    quick = synth.analyse_frames(list(synth.moving_objects_frames(W, H, 20, speed_px=16)), fps=25.0)
    assert quick.decisions["pace"].value["tempo"] == "fast"
    assert quick.decisions["pace"].value["shot_length_s"] == pytest.approx(0.8)

    slow = synth.analyse_frames(frames(50), fps=5.0)  # ten still seconds
    assert slow.decisions["pace"].value["tempo"] == "slow"
    assert slow.decisions["pace"].value["shot_length_s"] == pytest.approx(10.0)

    music = audio_tempo(synth.click_track(120.0, 10.0), 16000)
    with_music = synth.analyse_frames(frames(50), fps=5.0, audio_tempo=music)
    assert with_music.decisions["pace"].value["audio_bpm"] == pytest.approx(120.0, abs=3.0)
    assert any(r.startswith("audio_bpm=") for r in with_music.decisions["pace"].reasons)


def test_frame_rate_is_read_from_timestamps_when_not_given() -> None:
    analyzer = ShotAnalyzer()
    for i, frame in enumerate(frames(8)):
        analyzer.push(i, i / 50.0, frame)
    result = analyzer.finish()
    assert result.measurements["fps"] == pytest.approx(50.0)
    assert result.duration_s == pytest.approx(8 / 50)


def bad_push(analyzer: ShotAnalyzer, **changes: object) -> None:
    args: dict[str, object] = {
        "frame_index": 5,
        "pts_s": 1.0,
        "frame_bgr": np.zeros((H, W, 3), np.uint8),
        "gray": None,
    }
    args.update(changes)
    analyzer.push(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"frame_bgr": np.zeros((H, W, 3), np.float32)},
            r"uint8 array of shape \[height, width, 3\], got float32",
        ),
        ({"frame_bgr": np.zeros((H, W), np.uint8)}, r"got uint8 \[270, 480\]"),
        ({"frame_bgr": "frame"}, "got str"),
        ({"frame_bgr": np.zeros((20, W, 3), np.uint8)}, "both sides must be at least 32 px"),
        (
            {"frame_bgr": np.zeros((1080, 1921, 3), np.uint8)},
            "over max_frame_pixels.*not the full-resolution one",
        ),
        (
            {"gray": np.zeros((H, W - 1), np.uint8)},
            r"gray must be a uint8 array of shape \[270, 480\], got uint8 \[270, 479\]",
        ),
        ({"frame_index": -1}, "frame_index must be a non-negative integer"),
        ({"frame_index": 2.0}, "frame_index must be a non-negative integer"),
        ({"pts_s": math.nan}, "pts_s must be a finite number"),
    ],
)
def test_push_rejects_bad_frames(changes: dict[str, object], message: str) -> None:
    with pytest.raises(AnalysisInputError, match=message):
        bad_push(ShotAnalyzer(), **changes)


def test_push_rejects_out_of_order_and_resized_frames() -> None:
    analyzer = ShotAnalyzer()
    bad_push(analyzer)  # frame 5 at 1.0 s
    with pytest.raises(AnalysisInputError, match="frame_index must increase: got 5 after 5"):
        bad_push(analyzer)
    with pytest.raises(AnalysisInputError, match=r"pts_s must not go backwards: got 0.5 after 1.0"):
        bad_push(analyzer, frame_index=6, pts_s=0.5)
    with pytest.raises(AnalysisInputError, match="frame size changed within a shot: 480x270 -> 320x180"):
        bad_push(analyzer, frame_index=6, pts_s=1.1, frame_bgr=np.zeros((180, 320, 3), np.uint8))


def test_lifecycle_misuse_is_refused() -> None:
    with pytest.raises(AnalysisInputError, match="finish\\(\\) before any frame was pushed"):
        ShotAnalyzer().finish()
    analyzer = ShotAnalyzer()
    bad_push(analyzer)
    with pytest.raises(AnalysisInputError, match=r"speech_fraction must be in \[0, 1\] or None, got 1.5"):
        analyzer.finish(speech_fraction=1.5)
    with pytest.raises(AnalysisInputError, match="faces\\[5\\] must be a sequence of FaceBox"):
        analyzer.finish({5: [(0.1, 0.1, 0.2, 0.2, 0.9)]})  # type: ignore[list-item]
    with pytest.raises(AnalysisInputError, match="audio_tempo must be the Decision returned by audio_tempo"):
        analyzer.finish(audio_tempo=120.0)  # type: ignore[arg-type]
    with pytest.raises(AnalysisInputError, match="faces must map frame index"):
        analyzer.finish([[FaceBox(0.1, 0.1, 0.2, 0.2)]])  # type: ignore[arg-type]
    analyzer.finish({5: []})
    with pytest.raises(AnalysisInputError, match="finish\\(\\) called twice"):
        analyzer.finish()
    with pytest.raises(AnalysisInputError, match="push\\(\\) after finish\\(\\)"):
        bad_push(analyzer, frame_index=6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source_width": 1920}, "give both source_width and source_height"),
        ({"source_width": 0, "source_height": 1080}, "source size must be positive, got 0x1080"),
        ({"fps": 0.0}, r"fps must be in \(0, 1000\]"),
        ({"fps": math.inf}, "fps must be in"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AnalysisInputError, match=message):
        ShotAnalyzer(**kwargs)  # type: ignore[arg-type]
