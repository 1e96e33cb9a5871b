"""probe() on the committed samples (against TRUTH.json) and on files with known quirks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rushes_config import MediaLimits
from rushes_media import MediaRejected, probe

VIDEO_SAMPLES = ["cuts_fade.mp4", "pan_timecode.mov", "shaky_zoom.mp4"]


@pytest.mark.parametrize("name", VIDEO_SAMPLES)
def test_video_samples_match_truth(
    name: str, samples_dir: Path, truth: dict[str, Any], limits: MediaLimits
) -> None:
    expected = truth[name]
    technical = probe(samples_dir / name, limits)
    assert technical.has_video
    assert (technical.width, technical.height) == (expected["width"], expected["height"])
    assert technical.fps == pytest.approx(expected["fps"])
    assert technical.frame_count == expected["frame_count"]
    assert technical.duration_s == pytest.approx(expected["duration_s"], abs=0.05)
    assert technical.video_codec == expected["video_codec"]
    assert technical.pix_fmt == expected["pix_fmt"]
    assert technical.bit_depth == 8
    assert technical.sample_aspect_ratio == expected["sample_aspect_ratio"]
    assert technical.display_aspect_ratio == "16:9"
    assert technical.rotation == expected["rotation"]
    assert technical.variable_frame_rate is expected["variable_frame_rate"]
    assert technical.container == expected["container"]
    assert technical.timecode == expected["timecode"]
    assert technical.bit_rate > 0
    assert [(a.codec, a.channels, a.sample_rate) for a in technical.audio] == [
        (expected["audio"]["codec"], expected["audio"]["channels"], expected["audio"]["sample_rate"])
    ]
    assert technical.audio[0].channel_layout == "mono"
    camera = technical.camera
    assert {
        k: v for k, v in (("make", camera.make), ("model", camera.model), ("lens", camera.lens)) if v
    } == (expected["camera"])


def test_quicktime_tags_give_camera_timecode_and_creation_time(
    samples_dir: Path, truth: dict[str, Any], limits: MediaLimits
) -> None:
    technical = probe(samples_dir / "pan_timecode.mov", limits)
    assert technical.timecode == "01:00:00:00"
    assert technical.camera.make == "Canon"
    assert technical.camera.model == "EOS C70"
    expected = datetime.fromisoformat(truth["pan_timecode.mov"]["creation_time"]).timestamp()
    assert technical.creation_time_unix == pytest.approx(expected)


def test_encoder_tag_is_not_a_camera(samples_dir: Path, limits: MediaLimits) -> None:
    # Every sample carries "encoder: Lavf..."; only the MOV has real camera tags.
    technical = probe(samples_dir / "cuts_fade.mp4", limits)
    assert technical.camera.make == technical.camera.model == ""


def test_audio_only_wav_is_footage(samples_dir: Path, truth: dict[str, Any], limits: MediaLimits) -> None:
    technical = probe(samples_dir / "recorder.wav", limits)
    expected = truth["recorder.wav"]
    assert technical.has_video is False
    assert technical.width == technical.height == technical.frame_count == 0
    assert technical.container == "wav"
    assert technical.duration_s == pytest.approx(expected["duration_s"], abs=0.01)
    assert [(a.codec, a.channels, a.sample_rate) for a in technical.audio] == [("pcm_s16le", 1, 48000)]


def test_rotation_from_display_matrix(media_dir: Path, limits: MediaLimits) -> None:
    technical = probe(media_dir / "rotated.mp4", limits)
    assert technical.rotation == 90  # clockwise to display upright, like an upright phone
    assert (technical.width, technical.height) == (192, 108)  # coded size is reported unrotated


def test_non_square_pixels(media_dir: Path, limits: MediaLimits) -> None:
    technical = probe(media_dir / "anamorphic.mp4", limits)
    assert technical.sample_aspect_ratio == "64:45"
    assert technical.display_aspect_ratio == "16:9"
    assert (technical.width, technical.height) == (720, 576)


def test_variable_frame_rate_is_detected(tmp_path: Path, limits: MediaLimits) -> None:
    from rushes_testing.media_builders import write_vfr

    technical = probe(write_vfr(tmp_path / "vfr.mkv"), limits)
    assert technical.variable_frame_rate is True
    # Matroska has no frame count in its header: the packets were counted.
    assert technical.frame_count == 60


def test_video_without_audio(media_dir: Path, limits: MediaLimits) -> None:
    technical = probe(media_dir / "silent.mp4", limits)
    assert technical.has_video and list(technical.audio) == []


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"max_width": 320}, "dimensions_exceed_limit"),
        ({"max_height": 200}, "dimensions_exceed_limit"),
        ({"max_duration_s": 5.0}, "duration_exceeds_limit"),
        ({"max_fps": 24.0}, "frame_rate_exceeds_limit"),
        ({"max_bytes": 100_000}, "too_large"),
        ({"max_streams": 1}, "too_many_streams"),
    ],
)
def test_configured_limits_are_enforced(samples_dir: Path, override: dict[str, Any], code: str) -> None:
    with pytest.raises(MediaRejected) as caught:
        probe(samples_dir / "cuts_fade.mp4", MediaLimits(**override))
    assert caught.value.code == code
    assert caught.value.reason  # a sentence naming what was wrong


def test_metadata_limit(tmp_path: Path) -> None:
    from rushes_testing.media_builders import solid_frames, write_video

    path = write_video(
        tmp_path / "tagged.mp4",
        solid_frames(5, 64, 64),
        width=64,
        height=64,
        metadata={"comment": "x" * 2000},
    )
    assert probe(path, MediaLimits(max_metadata_bytes=4096)).width == 64
    with pytest.raises(MediaRejected) as caught:
        probe(path, MediaLimits(max_metadata_bytes=1024))
    assert caught.value.code == "metadata_too_large"
    assert "1024" in caught.value.reason


def test_probe_time_bound(samples_dir: Path) -> None:
    with pytest.raises(MediaRejected) as caught:
        probe(samples_dir / "cuts_fade.mp4", MediaLimits(probe_timeout_s=1e-6))
    assert caught.value.code == "probe_timeout"


def test_missing_file_is_not_a_rejection(tmp_path: Path, limits: MediaLimits) -> None:
    # A path that does not exist is the caller's bug, not the media's fault.
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "absent.mp4", limits)


def test_directory_is_refused(tmp_path: Path, limits: MediaLimits) -> None:
    with pytest.raises(MediaRejected) as caught:
        probe(tmp_path, limits)
    assert caught.value.code == "not_media"
