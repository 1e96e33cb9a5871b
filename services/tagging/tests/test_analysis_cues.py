"""Technical cues: colour bars, black frames and a slate are found; ordinary pictures have none."""

from __future__ import annotations

import numpy as np
import pytest
from rushes_tagging.analysis import AnalysisConfig
from rushes_tagging.analysis import synthetic as synth

W, H = 480, 270


@pytest.mark.parametrize(
    "frame",
    [
        synth.smpte_bars(W, H),
        synth.ebu_bars(W, H),
        synth.add_gaussian_noise(synth.smpte_bars(W, H), 4.0),
        synth.smpte_bars(640, 360),
    ],
    ids=["smpte", "ebu", "smpte_noisy", "smpte_640"],
)
def test_colour_bars_are_detected(frame: np.ndarray) -> None:
    result = synth.analyse_frames([frame] * 7)
    cues = result.decisions["technical_cues"]
    assert cues.value["detected"] == ["color_bars"]
    assert cues.value["color_bar_fraction"] == 1.0
    assert cues.confidence >= 0.85
    assert result.decisions["category"].value == "graphic"


def test_black_frames_are_detected_with_their_share_and_first_frame() -> None:
    picture = synth.add_gaussian_noise(synth.textured_scene(W, H, seed=1), 1.0)
    black = np.full((H, W, 3), 16, np.uint8)  # video-range black also counts
    frames = [picture] * 12 + [synth.add_gaussian_noise(black, 1.0, seed=i) for i in range(12)]
    every_6th = AnalysisConfig(stats_every_n_frames=6)
    cues = synth.analyse_frames(frames, config=every_6th).decisions[
        "technical_cues"
    ]  # sampled: 0, 6 | 12, 18
    assert cues.value["detected"] == ["black_frames"]
    assert cues.value["black_frame_fraction"] == pytest.approx(0.5)
    assert cues.value["first_frame"] == {"black_frames": 12}
    assert "black_frames=50%" in cues.reasons


def test_dark_frame_with_a_title_is_not_black() -> None:
    card = synth.title_card(W, H, background_bgr=(0, 0, 0))
    assert (
        "black_frames" not in synth.analyse_frames([card] * 3).decisions["technical_cues"].value["detected"]
    )


def test_slate_is_detected_with_low_confidence() -> None:
    cues = synth.analyse_frames([synth.clapperboard(W, H)] * 7).decisions["technical_cues"]
    assert cues.value["detected"] == ["slate"]
    assert cues.confidence <= 0.5 and "slate:weak_detector" in cues.reasons


@pytest.mark.parametrize(
    "frame",
    [
        synth.add_gaussian_noise(synth.textured_scene(W, H, seed=3), 2.0),
        synth.title_card(W, H),
        synth.lit_gray_scene(5600, W, H),
    ],
    ids=["scene", "title", "gray_chart"],
)
def test_ordinary_frames_have_no_cues(frame: np.ndarray) -> None:
    cues = synth.analyse_frames([frame] * 7).decisions["technical_cues"]
    assert cues.value["detected"] == [] and cues.value["first_frame"] == {}
    assert "none_found" in cues.reasons
