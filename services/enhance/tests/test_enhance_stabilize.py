"""Stabilization on a synthetic shaky clip: the residual jitter is measured and well below the input's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from enhance_media import shaky_frames, write_bgr_clip
from rushes_config import MediaLimits
from rushes_enhance import stabilize
from rushes_enhance.renderer import render
from rushes_enhance.settings import EnhanceSettings
from rushes_enhance.shots import ShotPlan, ShotSpan
from rushes_enhance.video import source_info

W, H, N = 192, 128, 60


@pytest.fixture(scope="module")
def shaky_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shaky") / "shaky.mp4"
    return write_bgr_clip(path, shaky_frames(N, W, H, shake_px=3.0), width=W, height=H)


def test_tracker_recovers_a_known_shift() -> None:
    frames = list(shaky_frames(2, W, H, shake_px=0.0))
    shifted = np.roll(frames[0], (3, -5), axis=(0, 1))
    gray_a, _ = stabilize.analysis_gray(frames[0], 480)
    gray_b, _ = stabilize.analysis_gray(shifted, 480)
    motion, tracked = stabilize.estimate_motion(gray_a, gray_b)
    assert tracked
    assert motion[0] == pytest.approx(-5, abs=0.3) and motion[1] == pytest.approx(3, abs=0.3)


def test_stabilized_rendition_has_much_less_jitter(shaky_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "stable.mp4"
    result = render("stabilize", shaky_clip, out, ShotPlan([]), EnhanceSettings(), MediaLimits())
    m = result.measurements
    assert m["input_jitter_px"] > 2.0, m
    assert m["residual_jitter_px"] < 0.4 * m["input_jitter_px"], m
    assert 0 < result.crop_fraction <= EnhanceSettings().max_crop
    assert result.parameters["smoothing_radius"] == 15 and json.dumps(result.parameters)
    info = source_info(out, MediaLimits())
    assert (info.width, info.height) == (W, H) and result.frames == N
    assert result.scale == 1.0 and 0 < result.confidence <= 1


def test_only_covered_shots_are_corrected(shaky_clip: Path, tmp_path: Path) -> None:
    shots = [ShotSpan(0, 0.0, 1.2), ShotSpan(1, 1.2, 2.4)]
    result = render(
        "stabilize", shaky_clip, tmp_path / "s.mp4", ShotPlan(shots, [1]), EnhanceSettings(), MediaLimits()
    )
    # The uncovered first shot keeps its shake, so the residual over the covered shot alone is low
    # while the whole-clip input jitter is still measured on the covered frames only.
    assert result.measurements["residual_jitter_px"] < 0.5 * result.measurements["input_jitter_px"]


def test_path_smoothing_never_crosses_a_cut() -> None:
    motions = np.zeros((20, 3))
    motions[10:, 0] = 4.0  # a pan that starts exactly at the cut
    covered = np.ones(20, bool)
    plan = stabilize.plan_stabilization(
        motions, [0, 10], covered, width=200, height=100, radius=5, max_crop=0.2
    )
    assert np.allclose(plan.corrections[:10], 0.0)  # the still first shot is left alone


def test_corrections_are_capped_by_max_crop() -> None:
    rng = np.random.default_rng(0)
    motions = np.zeros((50, 3))
    motions[:, 0] = rng.normal(0, 40, 50)
    plan = stabilize.plan_stabilization(
        motions, [0], np.ones(50, bool), width=200, height=100, radius=10, max_crop=0.05
    )
    assert plan.crop_limited and plan.crop == pytest.approx(0.05)
    assert np.abs(plan.corrections[:, 0]).max() <= 0.05 * 200
