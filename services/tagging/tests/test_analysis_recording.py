"""The one-pass recording: replaying a shot gives the analyzer what feeding it frames directly gives."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from rushes_tagging.analysis import AnalysisConfig, ClipRecording, ShotAnalyzer
from rushes_tagging.analysis import synthetic as synth

W, H = 480, 270


def _shaky(count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    path = np.cumsum(rng.normal(0, 0.3, size=(count, 2)), axis=0) + rng.normal(0, 3.0, size=(count, 2))
    offsets = [(20.0 + float(x), 20.0 + float(y)) for x, y in path]
    return list(synth.camera_path_frames(synth.textured_scene(W + 80, H + 80, seed=seed), W, H, offsets))


def _record(frames: list[np.ndarray], config: AnalysisConfig, opens: set[int]) -> ClipRecording:
    recording = ClipRecording(config)
    for index, frame in enumerate(frames):
        wanted = recording.wants_stats(index in opens)
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        recording.push(index, index / 25.0, gray, frame if wanted else None)
    return recording


def test_replayed_shots_measure_what_direct_feeding_measures() -> None:
    config = AnalysisConfig()
    first, second = _shaky(40, seed=1), _shaky(30, seed=2)
    recording = _record(first + second, config, opens={40})
    try:
        for start, end, frames in ((0, 40, first), (40, 70, second)):
            replayed = ShotAnalyzer(config, fps=25.0)
            recording.replay(replayed, start, end)
            direct = ShotAnalyzer(config, fps=25.0)
            for offset, frame in enumerate(frames):
                direct.push(start + offset, (start + offset) / 25.0, frame)
            a, b = replayed.finish(), direct.finish()
            assert a.frame_count == b.frame_count == end - start
            # motion never crosses the cut: the same pairs, hence the same jitter
            assert a.measurements["jitter_pct"] == pytest.approx(b.measurements["jitter_pct"], rel=1e-6)
            assert a.measurements["jitter_pct"] > 0.05
            assert a.sampled_frames == b.sampled_frames  # the frame opening the shot is sampled
            assert a.decisions["exposure"].value == b.decisions["exposure"].value
            # the keyframe comes back from the JPEG spool: same frame, nearly the same pixels
            assert a.keyframe_index == b.keyframe_index
            assert np.abs(a.keyframe_bgr.astype(int) - b.keyframe_bgr.astype(int)).mean() < 3.0
    finally:
        recording.close()


def test_a_flash_short_shot_after_a_cut_still_gets_statistics() -> None:
    config = AnalysisConfig()
    frames = _shaky(30, seed=3)
    recording = _record(frames, config, opens={13})  # a 3-frame shot between two cuts
    try:
        assert recording.sampled_in(13, 16) == [13]
        analyzer = ShotAnalyzer(config, fps=25.0)
        recording.replay(analyzer, 13, 16)
        assert analyzer.finish().frame_count == 3
    finally:
        recording.close()


def test_a_shot_with_no_sampled_frame_borrows_the_nearest_earlier_one() -> None:
    config = AnalysisConfig()
    frames = _shaky(30, seed=4)
    recording = _record(frames, config, opens=set())  # samples at 0, 12, 24
    try:
        assert recording.sampled_in(14, 17) == []
        analyzer = ShotAnalyzer(config, fps=25.0)
        recording.replay(analyzer, 14, 17)
        result = analyzer.finish()
        assert result.sampled_frames == (12,)  # decided from frame 12, and it says so
    finally:
        recording.close()


def test_frames_must_come_in_order() -> None:
    recording = ClipRecording(AnalysisConfig())
    try:
        with pytest.raises(ValueError, match="in order"):
            recording.push(1, 0.0, np.zeros((H, W), np.uint8), None)
    finally:
        recording.close()
