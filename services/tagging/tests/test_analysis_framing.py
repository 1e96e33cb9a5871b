"""Shot type from given face boxes (and its no-face fallback), and the shot category."""

from __future__ import annotations

import numpy as np
import pytest
from rushes_tagging.analysis import AnalysisConfig, FaceBox
from rushes_tagging.analysis import synthetic as synth

W, H = 480, 270


def still(seed: int = 1, count: int = 13) -> list[np.ndarray]:
    base = synth.textured_scene(W, H, seed=seed)
    return [synth.add_gaussian_noise(base, 1.5, seed=i) for i in range(count)]


def face(height: float, *, x: float = 0.45, y: float = 0.2, score: float = 0.9) -> FaceBox:
    return FaceBox(x, y, height * H / W, height, score)  # square in pixels, like the detector's boxes


@pytest.mark.parametrize(
    ("face_height", "shot_type"),
    [(0.8, "extreme_close_up"), (0.4, "close_up"), (0.17, "medium"), (0.06, "wide"), (0.018, "extreme_wide")],
)
def test_shot_type_from_face_height(face_height: float, shot_type: str) -> None:
    decision = synth.analyse_frames(still(), faces=[face(face_height)]).decisions["shot_type"]
    assert decision.value == shot_type
    assert decision.confidence >= 0.6
    assert f"face_height_ratio={face_height}" in decision.reasons


def test_close_up_and_wide_from_detector_pixel_boxes() -> None:
    close = [FaceBox.from_pixels(180, 40, 110, 110, 0.95, frame_width=W, frame_height=H)]
    wide = [FaceBox.from_pixels(300, 120, 14, 14, 0.8, frame_width=W, frame_height=H)]
    assert synth.analyse_frames(still(), faces=close).decisions["shot_type"].value == "close_up"
    assert synth.analyse_frames(still(), faces=wide).decisions["shot_type"].value == "wide"


def test_largest_face_decides_and_low_scores_are_ignored() -> None:
    faces = [face(0.06, x=0.1), face(0.4, x=0.5), face(0.9, x=0.0, score=0.2)]
    decision = synth.analyse_frames(still(), faces=faces).decisions["shot_type"]
    assert decision.value == "close_up"  # the 0.9 box is a low-score false positive


def test_ratio_near_a_boundary_is_less_certain() -> None:
    config = AnalysisConfig()
    clear = synth.analyse_frames(still(), faces=[face(0.17)]).decisions["shot_type"]
    border = synth.analyse_frames(still(), faces=[face(config.close_up_ratio * 1.02)]).decisions["shot_type"]
    assert border.confidence < clear.confidence
    assert border.confidence <= 0.6


def test_faces_in_only_a_few_frames_fall_back() -> None:
    every_6th = AnalysisConfig(stats_every_n_frames=6)
    result = synth.analyse_frames(
        still(count=25), config=every_6th, faces=lambda i: [face(0.4)] if i == 0 else []
    )
    decision = result.decisions["shot_type"]
    assert len(result.sampled_frames) == 5  # one face in 5 frames: under min_face_frame_fraction
    assert "fallback:no_face" in decision.reasons and "faces_in=20%_of_5_frames" in decision.reasons
    assert decision.confidence < 0.5


def test_fallback_without_faces_guesses_from_depth_of_field_and_detail() -> None:
    sharp = synth.add_gaussian_noise(synth.textured_scene(W, H, seed=2), 1.0)
    defocused = synth.gaussian_blur(sharp, 4.0)
    subject = defocused.copy()
    subject[H // 4 : 3 * H // 4, W // 4 : 3 * W // 4] = sharp[H // 4 : 3 * H // 4, W // 4 : 3 * W // 4]
    wide = synth.analyse_frames([sharp] * 7, faces=[]).decisions["shot_type"]
    close = synth.analyse_frames([subject] * 7, faces=[]).decisions["shot_type"]
    unknown = synth.analyse_frames([defocused] * 7, faces=None).decisions["shot_type"]
    assert (wide.value, close.value) == ("wide", "close_up")
    for decision in (wide, close, unknown):
        assert "fallback:no_face" in decision.reasons
        assert decision.confidence <= 0.4  # honest: picture cues are weak evidence of framing
    assert "faces_not_evaluated" in unknown.reasons and "cue:none_decisive" in unknown.reasons


def test_title_card_is_a_graphic() -> None:
    card = synth.title_card(W, H)
    decision = synth.analyse_frames([card] * 13, faces=[]).decisions["category"]
    assert decision.value == "graphic" and decision.confidence >= 0.6
    assert any(r.startswith("graphic=") for r in decision.reasons)


def test_talking_head_with_speech_is_an_interview() -> None:
    decision = synth.analyse_frames(still(), faces=[face(0.3)], speech_fraction=0.8).decisions["category"]
    assert decision.value == "interview" and decision.confidence >= 0.5
    assert "speech=80%" in decision.reasons


def test_unknown_speech_lowers_interview_confidence() -> None:
    known = synth.analyse_frames(still(), faces=[face(0.3)], speech_fraction=0.8).decisions["category"]
    unknown = synth.analyse_frames(still(), faces=[face(0.3)]).decisions["category"]
    assert unknown.value == "interview" and "speech_unknown" in unknown.reasons
    assert unknown.confidence < known.confidence


def test_several_people_without_interview_stillness_make_a_scene() -> None:
    def crowd(index: int) -> list[FaceBox]:
        drift = 0.02 * (index % 5)
        return [face(0.15, x=0.1 + drift), face(0.15, x=0.4 - drift), face(0.14, x=0.7)]

    decision = synth.analyse_frames(still(), faces=crowd, speech_fraction=0.5).decisions["category"]
    assert decision.value == "scene"


def test_fast_subject_motion_is_action() -> None:
    frames = list(synth.moving_objects_frames(W, H, 30, speed_px=16))
    decision = synth.analyse_frames(frames, faces=[]).decisions["category"]
    assert decision.value == "action"


def test_static_scenery_without_people_is_b_roll() -> None:
    decision = synth.analyse_frames(still(), faces=[]).decisions["category"]
    assert decision.value == "b_roll" and decision.confidence >= 0.6


def test_category_when_faces_were_not_evaluated_is_less_certain() -> None:
    with_faces = synth.analyse_frames(still(), faces=[]).decisions["category"]
    without = synth.analyse_frames(still(), faces=None).decisions["category"]
    assert without.value == "b_roll" and "faces_not_evaluated" in without.reasons
    assert without.confidence < with_faces.confidence
