"""rushes_media.frames: the frame on screen at a time, upright and square-pixel, on awkward files."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from rushes_config import MediaLimits
from rushes_media import FrameRequestError, MediaRejected, frames_at, frames_at_indices
from rushes_testing.media_builders import (
    solid_frames,
    tone,
    write_corrupt_middle,
    write_vfr,
    write_video,
)

STEP = 9  # grey level per frame index: wide enough to survive H.264's loss


def _numbered(count: int, width: int, height: int) -> Iterator[np.ndarray]:
    """Flat grey frames whose level encodes their index (30 + 9 * index)."""
    for index in range(count):
        yield np.full((height, width, 3), 30 + STEP * index, np.uint8)


def _index_of(picture: np.ndarray) -> int:
    return round((float(picture.mean()) - 30) / STEP)


@pytest.fixture(scope="module")
def numbered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 frames at 25 fps with a keyframe every 6: seeks land on keyframes before the target."""
    path = tmp_path_factory.mktemp("frames") / "numbered.mp4"
    return write_video(path, _numbered(24, 64, 48), width=64, height=48, codec_options={"g": "6"})


@pytest.mark.parametrize("strategy", ["seek", "sequential"])
def test_frame_on_screen_at_each_time_in_request_order(
    numbered: Path, limits: MediaLimits, strategy: str
) -> None:
    times = [0.9, 0.0, 0.3, 0.5, 0.52, 0.94, 0.041]
    result = frames_at(numbered, times, limits, strategy=strategy)  # type: ignore[arg-type]
    # 25 fps: frame n is on screen from n/25 s; 0.5 s falls inside frame 12, 0.52 starts frame 13.
    assert [_index_of(p) for p in result.pictures] == [22, 0, 7, 12, 13, 23, 1]
    assert result.times_s == pytest.approx([0.88, 0.0, 0.28, 0.48, 0.52, 0.92, 0.04])
    assert result.sequential is (strategy == "sequential")
    assert all(p.shape == (48, 64, 3) and p.dtype == np.uint8 for p in result.pictures)


def test_frame_indices_are_exact(numbered: Path, limits: MediaLimits) -> None:
    result = frames_at_indices(numbered, [5, 0, 23], limits)
    assert [_index_of(p) for p in result.pictures] == [5, 0, 23]
    with pytest.raises(
        FrameRequestError, match=r"frame index 24 is past the end: numbered\.mp4 has 24 frames"
    ):
        frames_at_indices(numbered, [24], limits)


def test_bgr_and_size_bounds(numbered: Path, limits: MediaLimits) -> None:
    rgb = frames_at(numbered, [0.2], limits).pictures[0]
    bgr = frames_at(numbered, [0.2], limits, pixel_format="bgr24").pictures[0]
    assert np.array_equal(rgb[..., ::-1], bgr)
    assert frames_at(numbered, [0.2], limits, max_width=32, max_height=32).pictures[0].shape == (24, 32, 3)
    assert frames_at(numbered, [0.2], limits, size=(20, 10)).pictures[0].shape == (10, 20, 3)
    with pytest.raises(FrameRequestError, match="at least 2x2"):
        frames_at(numbered, [0.2], limits, size=(0, 10))


def test_rotation_is_applied(tmp_path: Path, limits: MediaLimits) -> None:
    """A phone clip (display matrix -90): 96x48 coded becomes 48x96 upright, turned clockwise."""
    frame = np.zeros((48, 96, 3), np.uint8)
    frame[:16, :16] = (255, 255, 255)  # a white block in the coded top-left corner
    path = write_video(
        tmp_path / "phone.mp4", [frame] * 5, width=96, height=48, rotation=-90, audio=tone(0.2)
    )
    result = frames_at(path, [0.1], limits)
    picture = result.pictures[0]
    assert result.rotation == 90
    assert picture.shape == (96, 48, 3)
    # Turned clockwise, the coded top-left corner ends up top-right.
    assert picture[:12, -12:].mean() > 200
    assert picture[-12:, :12].mean() < 60 and picture[:12, :12].mean() < 60


def test_sample_aspect_ratio_is_applied(tmp_path: Path, limits: MediaLimits) -> None:
    """Anamorphic PAL 16:9: 720x576 coded with SAR 64:45 displays as 1024x576."""
    path = write_video(
        tmp_path / "pal.mp4",
        solid_frames(4, 720, 576),
        width=720,
        height=576,
        sample_aspect_ratio=Fraction(64, 45),
    )
    assert frames_at(path, [0.0], limits).pictures[0].shape == (576, 1024, 3)
    assert frames_at(path, [0.0], limits, max_width=512, max_height=512).pictures[0].shape == (288, 512, 3)


def test_vfr_clip_picks_by_timestamp(tmp_path: Path, limits: MediaLimits) -> None:
    """Frames 60 ms and 30 ms apart (timestamps remuxed out of decode order): both paths agree."""
    path = write_vfr(tmp_path / "vfr.mkv")
    times = [0.0, 0.1, 0.95, 2.0]
    by_seek = frames_at(path, times, limits)
    from_start = frames_at(path, times, limits, strategy="sequential")
    assert by_seek.times_s == pytest.approx([0.0, 0.09, 0.9, 1.98])
    assert from_start.times_s == by_seek.times_s
    assert all(np.array_equal(a, b) for a, b in zip(by_seek.pictures, from_start.pictures, strict=True))


def test_time_outside_the_video_is_a_clear_error(numbered: Path, limits: MediaLimits) -> None:
    with pytest.raises(
        FrameRequestError, match=r"time 5.000 s is outside numbered.mp4 \(duration 0.960 s\)"
    ) as err:
        frames_at(numbered, [0.1, 5.0], limits)
    assert err.value.code == "time_out_of_range"
    with pytest.raises(FrameRequestError, match="outside"):
        frames_at(numbered, [-0.5], limits)
    with pytest.raises(FrameRequestError, match="not a finite number"):
        frames_at(numbered, [float("nan")], limits)
    with pytest.raises(FrameRequestError, match="no frame times"):
        frames_at(numbered, [], limits)


def test_audio_only_file_has_no_frames(tmp_path: Path, limits: MediaLimits) -> None:
    from rushes_testing.media_builders import write_wav

    path = write_wav(tmp_path / "sound.wav", tone(0.5), 48000)
    with pytest.raises(FrameRequestError, match=r"sound\.wav has no video stream") as err:
        frames_at(path, [0.1], limits)
    assert err.value.code == "no_video"


def test_corrupt_file_is_rejected(tmp_path: Path, limits: MediaLimits) -> None:
    corrupt = write_corrupt_middle(tmp_path / "corrupt.mkv")
    with pytest.raises(MediaRejected) as err:
        frames_at(corrupt, [0.9], limits, strategy="sequential")
    assert err.value.code == "decode_error"
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(MediaRejected):
        frames_at(garbage, [0.0], limits)
