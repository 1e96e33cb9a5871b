"""The analyzers on the committed sample clips (real H.264/AAC encodes of generated scenes with
known truth in tests/fixtures/samples/TRUTH.json), decoded and scaled the way tagging does."""

from __future__ import annotations

import json
import wave
from functools import cache
from pathlib import Path

import av
import numpy as np
import pytest
from rushes_tagging.analysis import audio_tempo
from rushes_tagging.analysis import synthetic as synth

SAMPLES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "samples"
W, H, FPS = 480, 270, 25.0


@cache
def truth() -> dict:  # type: ignore[type-arg]
    return json.loads((SAMPLES / "TRUTH.json").read_text())["clips"]


@cache
def decoded(name: str) -> tuple[np.ndarray, ...]:
    with av.open(str(SAMPLES / name)) as container:
        return tuple(f.to_ndarray(format="bgr24", width=W, height=H) for f in container.decode(video=0))


def test_shaky_clip_is_flagged_with_its_known_shake() -> None:
    shake_rms_per_axis = truth()["shaky_zoom.mp4"]["shake"]["rms_px"] * W / 640  # at 480 px wide
    result = synth.analyse_frames(decoded("shaky_zoom.mp4"), fps=FPS, faces=[], source_size=(640, 360))
    # Tolerance: +-20% of the 2-D RMS of the clip's known shake (it also zooms slowly).
    assert result.decisions["shakiness"].value["jitter_px"] == pytest.approx(
        np.sqrt(2) * shake_rms_per_axis, rel=0.2
    )
    assert {f.name for f in result.flags} == {"needs_stabilization", "needs_upscale"}


def test_pan_then_zoom_clip_is_steady() -> None:
    result = synth.analyse_frames(decoded("pan_timecode.mov"), fps=FPS, faces=[])
    shakiness = result.decisions["shakiness"]
    assert shakiness.value["verdict"] == "steady"
    assert all(f.name != "needs_stabilization" for f in result.flags)
    # 6 px/frame at 640 wide for 90 of 150 frames, then a zoom: ~23.4% of the width a second while
    # panning; averaged over the shot within 35%.
    assert shakiness.value["pan_speed_pct_per_s"] == pytest.approx(23.4 * 90 / 150, rel=0.35)


def test_cut_shots_are_not_graphics_and_fades_show_black_frames() -> None:
    frames = decoded("cuts_fade.mp4")
    for shot in truth()["cuts_fade.mp4"]["shots"]:
        start, end = shot["start_frame"], shot["end_frame"]
        result = synth.analyse_frames(frames[start:end], fps=FPS, faces=[])
        assert result.decisions["category"].value != "graphic", shot
        fades_to_or_from_black = start >= 100  # the fade out ends at 150, the fade in starts there
        assert (
            "black_frames" in result.decisions["technical_cues"].value["detected"]
        ) is fades_to_or_from_black, shot
        assert result.decisions["shakiness"].value["verdict"] == "steady", shot


def test_speech_has_no_musical_tempo() -> None:
    with wave.open(str(SAMPLES / "recorder.wav")) as recording:
        samples = np.frombuffer(recording.readframes(recording.getnframes()), dtype=np.int16)
        assert audio_tempo(samples, recording.getframerate()) is None
