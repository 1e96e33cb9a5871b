"""Shot boundaries on generated clips with exact truth, on the committed samples, and edge cases.

Clips come from `rushes_tagging.shots.synthetic` at 256x144 (a fraction of a second each to
render, encode and detect). Each asserts the frames found and, as importantly, that flashes,
whip pans, fast objects and exposure drift produce no boundary at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from rushes_tagging.shots import ShotResult, detect_shots
from rushes_tagging.shots.synthetic import ClipSpec, SceneSpec, catalogue, write_clip

SAMPLES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "samples"
WIDTH, HEIGHT = 256, 144


Clip = tuple[Path, dict[str, Any], ShotResult]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Clip]:
    """Render (once per module) a named catalogue clip; return its path, truth and detection."""
    folder = tmp_path_factory.mktemp("shots")
    specs = catalogue(WIDTH, HEIGHT)
    made: dict[str, Clip] = {}

    def make(name: str) -> Clip:
        if name not in made:
            path = folder / f"{name}.mp4"
            truth = write_clip(path, specs[name])
            made[name] = (path, truth, detect_shots(path))
        return made[name]

    return make


def boundaries(result: ShotResult) -> list[int]:
    return [shot.start_frame for shot in result.shots[1:]]


def assert_shots_tile_the_clip(result: ShotResult) -> None:
    assert result.shots[0].start_frame == 0 and result.shots[0].transition_in == "start"
    assert result.shots[-1].end_frame == result.frame_count
    for before, after in zip(result.shots, result.shots[1:], strict=False):
        assert before.end_frame == after.start_frame
        assert before.end_s == pytest.approx(after.start_s)
        assert before.timecode_out == after.timecode_in
    for shot in result.shots:
        assert 0.0 <= shot.confidence <= 1.0
    for transition in result.transitions:
        assert 0.0 <= transition.confidence <= 1.0 and transition.reason


def test_hard_cuts_are_found_at_their_exact_frames(clip: Callable[[str], Clip]) -> None:
    _, truth, result = clip("cuts_motion")
    assert boundaries(result) == truth["cuts"]
    assert [t.kind for t in result.transitions] == ["cut"] * len(truth["cuts"])
    assert all(s.transition_in == "cut" for s in result.shots[1:])
    assert all(t.confidence > 0.8 for t in result.transitions)
    assert_shots_tile_the_clip(result)


def test_cuts_between_shots_of_one_location_are_found(clip: Callable[[str], Clip]) -> None:
    """Same palette, similar histograms: colour statistics alone would miss these."""
    _, truth, result = clip("same_location_cuts")
    assert boundaries(result) == truth["cuts"]


def test_camera_flashes_are_not_cuts(clip: Callable[[str], Clip]) -> None:
    _, truth, result = clip("flashes")
    assert truth["flashes"], "the clip must contain flashes to prove anything"
    assert boundaries(result) == truth["cuts"]
    for flash in truth["flashes"]:
        assert all(abs(t.start_frame - flash) > 3 for t in result.transitions), flash


def test_whip_pans_and_fast_pans_are_not_cuts(clip: Callable[[str], Clip]) -> None:
    _, truth, result = clip("whip_pans")
    assert {d["kind"] for d in truth["distractors"]} >= {"whip_pan", "fast_pan"}
    assert boundaries(result) == truth["cuts"]
    assert [t.kind for t in result.transitions] == ["cut"] * len(truth["cuts"])


def test_fast_objects_and_shake_are_not_cuts(clip: Callable[[str], Clip]) -> None:
    _, truth, result = clip("fast_objects")
    assert boundaries(result) == truth["cuts"]
    assert [t.kind for t in result.transitions] == ["cut"] * len(truth["cuts"])


def test_exposure_drift_is_not_a_transition(clip: Callable[[str], Clip]) -> None:
    _, truth, result = clip("exposure_drift")
    # One cut and one dissolve are real; the 80-frame brightening and darkening are not.
    assert [s.transition_in for s in result.shots[1:]] == ["cut", "dissolve"]
    assert result.shots[1].start_frame == truth["cuts"][0]
    assert abs(result.shots[2].start_frame - truth["shots"][2]["start_frame"]) <= 2


def _truth_gradual(truth: dict[str, Any], kind: str) -> list[tuple[int, int]]:
    return [(g["start_frame"], g["end_frame"]) for g in truth["gradual"] if g["kind"] == kind]


def test_fades_and_dissolves_are_found_with_their_spans(clip: Callable[[str], Clip]) -> None:
    _, truth, result = clip("fades_dissolves")
    found = {
        kind: [(t.start_frame, t.end_frame) for t in result.transitions if t.kind == kind]
        for kind in ("fade_in", "fade_out", "dissolve", "cut")
    }
    # Fades: to and from black, within 2 frames at both ends (the clip opens with a fade in and
    # closes with a fade out: reported, but they separate no shots).
    for kind in ("fade_in", "fade_out"):
        expected = _truth_gradual(truth, kind)
        assert len(found[kind]) == len(expected), kind
        for (start, end), (t_start, t_end) in zip(found[kind], expected, strict=True):
            assert abs(start - t_start) <= 2 and abs(end - t_end) <= 2, (kind, start, end, t_start, t_end)
    # Dissolves of 8, 30 and 16 frames: the shot starts mid-way (within a quarter of the length,
    # at least 2 frames) and the reported span overlaps the true one.
    expected = _truth_gradual(truth, "dissolve")
    assert len(found["dissolve"]) == len(expected)
    for (start, end), (t_start, t_end) in zip(found["dissolve"], expected, strict=True):
        assert start < t_end and t_start < end
        assert abs((start + end) // 2 - (t_start + t_end) // 2) <= max(2, (t_end - t_start) // 4)
    assert found["cut"] == [(c, c) for c in truth["cuts"]]
    entries = [s.transition_in for s in result.shots]
    assert entries == [s["transition_in"] for s in truth["shots"]]
    fade_shot = next(s for s in result.shots if s.transition_in == "fade")
    truth_fade = next(s for s in truth["shots"] if s["transition_in"] == "fade")
    assert abs(fade_shot.start_frame - truth_fade["start_frame"]) <= 1  # the black frame
    assert_shots_tile_the_clip(result)


def test_variable_frame_rate_rotation_and_anamorphic_pixels(clip: Callable[[str], Clip]) -> None:
    """29.97 fps with irregular frame durations, a -90 degree display matrix, 4:3 pixels and a
    drop-frame start timecode: frames, times and labels follow the pts and the file's tags."""
    path, truth, result = clip("ntsc_vfr_rotated")
    with av.open(str(path)) as container:
        assert container.streams.video[0].metadata.get("timecode") == "00:59:59;28"
    assert result.drop_frame and result.start_timecode == "00:59:59;28"
    assert [s.transition_in for s in result.shots] == ["start", "cut", "dissolve", "cut"]
    assert [result.shots[1].start_frame, result.shots[3].start_frame] == truth["cuts"]
    times = truth["times_s"]
    for shot in result.shots:
        assert shot.start_s == pytest.approx(times[shot.start_frame] - times[0], abs=1e-3)
    # Irregular durations: the time of a frame is not its index / fps...
    cut = result.shots[1]
    assert abs(cut.start_s - cut.start_frame / (30000 / 1001)) > 0.05
    # ...and its label is that of its time, counted from the start label.
    frames_in = round(cut.start_s * 30000 / 1001)
    assert cut.timecode_in == _drop_frame_label(107890 + frames_in)


def _drop_frame_label(frames: int) -> str:
    from rushes_tagging.shots.timecode import format_timecode, timecode_rate

    return format_timecode(frames, timecode_rate(29.97))


def test_rotation_and_pixel_aspect_do_not_move_boundaries(tmp_path: Path) -> None:
    spec = replace(
        catalogue(WIDTH, HEIGHT)["cuts_motion"], scenes=catalogue(WIDTH, HEIGHT)["cuts_motion"].scenes[:4]
    )
    plain = detect_shots(_write(tmp_path / "plain.mp4", spec))
    turned = detect_shots(
        _write(tmp_path / "turned.mp4", replace(spec, rotation=90, sample_aspect_ratio=Fraction(3, 2)))
    )
    assert boundaries(plain) == boundaries(turned) == [45, 85, 120]


def _write(path: Path, spec: ClipSpec) -> Path:
    write_clip(path, spec)
    return path


def test_single_frame_video_is_one_shot(tmp_path: Path) -> None:
    spec = ClipSpec(scenes=(SceneSpec(1, 1, "sky", "static", "start"),), width=64, height=48)
    result = detect_shots(_write(tmp_path / "one.mp4", spec))
    assert result.frame_count == 1 and result.transitions == ()
    (shot,) = result.shots
    assert (shot.start_frame, shot.end_frame, shot.start_s) == (0, 1, 0.0)
    assert shot.end_s == pytest.approx(0.04)
    assert (shot.timecode_in, shot.timecode_out) == ("00:00:00:00", "00:00:00:01")


def test_all_black_video_is_one_shot_without_transitions(tmp_path: Path) -> None:
    path = tmp_path / "black.mp4"
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 128, 72, "yuv420p"
        for _ in range(60):
            output.mux(
                stream.encode(av.VideoFrame.from_ndarray(np.zeros((72, 128, 3), np.uint8), format="rgb24"))
            )
        output.mux(stream.encode(None))
    result = detect_shots(path)
    assert result.transitions == ()
    assert [(s.start_frame, s.end_frame, s.transition_in) for s in result.shots] == [(0, 60, "start")]
    assert result.duration_s == pytest.approx(2.4)


def test_committed_samples_match_their_truth() -> None:
    truth = json.loads((SAMPLES / "TRUTH.json").read_text())["clips"]

    cuts_fade = detect_shots(SAMPLES / "cuts_fade.mp4")
    expected = truth["cuts_fade.mp4"]["shots"]
    assert [(s.start_frame, s.end_frame, s.transition_in) for s in cuts_fade.shots] == [
        (s["start_frame"], s["end_frame"], s["transition_in"]) for s in expected
    ]
    fades = [(t.kind, t.start_frame, t.end_frame) for t in cuts_fade.transitions if t.kind.startswith("fade")]
    assert fades == [(f["kind"], f["start_frame"], f["end_frame"]) for f in truth["cuts_fade.mp4"]["fades"]]
    assert cuts_fade.shots[3].timecode_in == "00:00:06:00"

    pan = detect_shots(SAMPLES / "pan_timecode.mov")
    (shot,) = pan.shots
    assert (shot.timecode_in, shot.timecode_out) == ("01:00:00:00", "01:00:06:00")
    assert pan.start_timecode == truth["pan_timecode.mov"]["timecode"]
    assert pan.transitions == ()

    shaky = detect_shots(SAMPLES / "shaky_zoom.mp4")
    assert len(shaky.shots) == 1 and shaky.transitions == ()


def test_a_start_timecode_argument_overrides_the_file() -> None:
    result = detect_shots(SAMPLES / "pan_timecode.mov", start_timecode="10:00:00:00")
    assert result.shots[0].timecode_in == "10:00:00:00"
    assert result.shots[0].timecode_out == "10:00:06:00"
    with pytest.raises(ValueError, match="drop-frame timecode exists only"):
        detect_shots(SAMPLES / "pan_timecode.mov", start_timecode="10:00:00;00")
