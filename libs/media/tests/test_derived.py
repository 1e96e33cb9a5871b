"""Proxy, poster and ASR audio: formats, geometry, sound, and failure without leftovers."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from rushes_config import MediaLimits
from rushes_media import MediaRejected, extract_audio_wav, make_poster, make_proxy, make_proxy_and_wav


def _video_info(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        first = next(container.decode(stream))
        return {
            "format": container.format.name,
            "codec": stream.codec_context.name,
            "size": (stream.width, stream.height),
            "pix_fmt": stream.codec_context.pix_fmt,
            "sar": stream.sample_aspect_ratio,
            "rotation": first.rotation,
            "frames": stream.frames,
            "audio": [(a.codec_context.name, a.codec_context.sample_rate) for a in container.streams.audio],
            "first": first.to_ndarray(format="rgb24"),
            "faststart": _moov_before_mdat(path),
        }


def _moov_before_mdat(path: Path) -> bool:
    head = path.read_bytes()
    return 0 <= head.find(b"moov") < head.find(b"mdat")


def _wav(path: Path) -> tuple[int, int, int, np.ndarray]:
    with wave.open(str(path), "rb") as reader:
        samples = np.frombuffer(reader.readframes(reader.getnframes()), "<i2")
        return reader.getframerate(), reader.getnchannels(), reader.getsampwidth(), samples


# --- proxy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cuts_fade.mp4", "pan_timecode.mov", "shaky_zoom.mp4"])
def test_proxy_of_samples(name: str, samples_dir: Path, truth: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "proxy.mp4"
    make_proxy(samples_dir / name, out)
    info = _video_info(out)
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert info["size"] == (640, 360)  # never upscaled to 720p
    assert info["frames"] == truth[name]["frame_count"]
    assert info["audio"] == [("aac", 48000)]
    assert info["faststart"]
    assert [p.name for p in tmp_path.iterdir()] == ["proxy.mp4"]


def test_proxy_downscales_to_720p(media_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "proxy.mp4"
    make_proxy(media_dir / "full_hd.mp4", out)
    assert _video_info(out)["size"] == (1280, 720)


def test_proxy_respects_max_height(samples_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "proxy.mp4"
    make_proxy(samples_dir / "cuts_fade.mp4", out, max_height=180)
    assert _video_info(out)["size"] == (320, 180)


def test_proxy_applies_sample_aspect_ratio(media_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "proxy.mp4"
    make_proxy(media_dir / "anamorphic.mp4", out)
    info = _video_info(out)
    # 720x576 at SAR 64:45 displays as 1024x576; fit into 1280x720 without upscaling.
    assert info["size"] == (1024, 576)
    assert info["sar"] in (None, 1)


def test_proxy_rotates_pixels_upright(media_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "proxy.mp4"
    make_proxy(media_dir / "rotated.mp4", out)
    info = _video_info(out)
    assert info["size"] == (108, 192)  # portrait, upright
    assert info["rotation"] == 0  # no display matrix left for players to apply twice
    # solid_frames' first frame has a white 16x16 square in the coded top-left corner; turned 90
    # degrees clockwise it lands in the top-right corner, and the top-left holds dark gradient.
    first = info["first"].mean(axis=2)
    assert first[2:12, -12:-2].mean() > 240
    assert first[2:12, 2:12].mean() < 120


def test_audio_only_proxy_is_aac_mp4(samples_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "proxy.mp4"
    make_proxy(samples_dir / "recorder.wav", out)
    with av.open(str(out)) as container:
        assert len(container.streams.video) == 0
        assert [a.codec_context.name for a in container.streams.audio] == ["aac"]
        assert container.duration / 1e6 == pytest.approx(6.0, abs=0.1)


def test_truncated_source_fails_without_output(tmp_path: Path) -> None:
    from rushes_testing.media_builders import solid_frames, tone, write_video

    full = write_video(
        tmp_path / "full.mkv",
        solid_frames(250, 64, 64),
        width=64,
        height=64,
        container_format="matroska",
        audio=tone(10.0),
    )
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(MediaRejected) as caught:
        make_proxy(cut, out_dir / "proxy.mp4")
    assert caught.value.code == "truncated"
    assert "declares 10" in caught.value.reason
    assert list(out_dir.iterdir()) == []


def test_decode_error_mid_file_fails_without_output(tmp_path: Path) -> None:
    from rushes_testing.media_builders import write_corrupt_middle

    source = write_corrupt_middle(tmp_path / "corrupt.mkv")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(MediaRejected) as caught:
        make_proxy(source, out_dir / "proxy.mp4")
    assert caught.value.code == "decode_error"
    assert "at 0.8" in caught.value.reason  # packet 20 at 25 fps
    assert list(out_dir.iterdir()) == []


def test_job_time_limit(samples_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaRejected) as caught:
        make_proxy(
            samples_dir / "cuts_fade.mp4", tmp_path / "proxy.mp4", limits=MediaLimits(job_timeout_s=1e-6)
        )
    assert caught.value.code == "job_timeout"
    assert list(tmp_path.iterdir()) == []


def test_existing_output_survives_a_failed_run(samples_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "proxy.mp4"
    make_proxy(samples_dir / "cuts_fade.mp4", out)
    before = out.read_bytes()
    with pytest.raises(MediaRejected):
        make_proxy(samples_dir / "cuts_fade.mp4", out, limits=MediaLimits(job_timeout_s=1e-6))
    assert out.read_bytes() == before


# --- poster ---------------------------------------------------------------------------------


def test_poster_is_a_jpeg_at_ten_percent(samples_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "poster.jpg"
    make_poster(samples_dir / "cuts_fade.mp4", out)
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"
    image = cv2.imread(str(out))
    assert image.shape == (360, 640, 3)
    # 10% of 8 s is frame 20, inside the blue "sky" shot; the other shots are orange, green, purple.
    blue, green, red = image.reshape(-1, 3).mean(axis=0)
    assert blue > red + 30 and blue > green


def test_poster_of_rotated_and_anamorphic_footage(media_dir: Path, tmp_path: Path) -> None:
    make_poster(media_dir / "rotated.mp4", tmp_path / "rotated.jpg")
    make_poster(media_dir / "anamorphic.mp4", tmp_path / "anamorphic.jpg")
    make_poster(media_dir / "full_hd.mp4", tmp_path / "full_hd.jpg")
    assert cv2.imread(str(tmp_path / "rotated.jpg")).shape[:2] == (192, 108)
    assert cv2.imread(str(tmp_path / "anamorphic.jpg")).shape[:2] == (576, 1024)
    assert cv2.imread(str(tmp_path / "full_hd.jpg")).shape[:2] == (720, 1280)


def test_poster_of_audio_only_file_is_refused(samples_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaRejected) as caught:
        make_poster(samples_dir / "recorder.wav", tmp_path / "poster.jpg")
    assert caught.value.code == "no_streams"
    assert list(tmp_path.iterdir()) == []


# --- ASR audio ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cuts_fade.mp4", "pan_timecode.mov", "shaky_zoom.mp4", "recorder.wav"])
def test_wav_is_16k_mono_with_speech_where_truth_says(
    name: str, samples_dir: Path, truth: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "audio.wav"
    assert extract_audio_wav(samples_dir / name, out) is True
    rate, channels, width, samples = _wav(out)
    assert (rate, channels, width) == (16000, 1, 2)
    assert len(samples) / rate == pytest.approx(truth[name]["duration_s"], abs=0.05)
    speech = truth[name]["speech"][0]
    envelope = np.abs(samples.astype(np.float32))
    inside = envelope[int(speech["start_s"] * rate) : int(speech["end_s"] * rate)].mean()
    before = envelope[: int(max(speech["start_s"] - 0.1, 0.05) * rate)].mean()
    assert inside > 20 * before  # the voice is where TRUTH.json says, over faint room tone


def test_wav_sample_rate_is_configurable(samples_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "audio.wav"
    extract_audio_wav(samples_dir / "recorder.wav", out, sample_rate=8000)
    rate, _channels, _width, samples = _wav(out)
    assert rate == 8000
    assert len(samples) == pytest.approx(6.0 * 8000, abs=80)


def test_no_audio_returns_false_and_writes_nothing(media_dir: Path, tmp_path: Path) -> None:
    assert extract_audio_wav(media_dir / "silent.mp4", tmp_path / "audio.wav") is False
    assert list(tmp_path.iterdir()) == []


def test_proxy_and_wav_in_one_pass(samples_dir: Path, tmp_path: Path) -> None:
    proxy, wav_path = tmp_path / "proxy.mp4", tmp_path / "audio.wav"
    assert make_proxy_and_wav(samples_dir / "shaky_zoom.mp4", proxy, wav_path) is True
    assert _video_info(proxy)["frames"] == 150
    rate, channels, _width, samples = _wav(wav_path)
    assert (rate, channels) == (16000, 1)
    assert len(samples) / rate == pytest.approx(6.0, abs=0.05)


def test_short_picture_beside_full_sound_is_not_truncation(tmp_path: Path) -> None:
    """A 2 s picture track with 10 s of sound ends early on purpose: only missing data is a cut."""
    from rushes_media import probe
    from rushes_testing.media_builders import solid_frames, tone, write_video

    source = write_video(
        tmp_path / "short_video.mkv",
        solid_frames(50, 64, 64),
        width=64,
        height=64,
        container_format="matroska",
        audio=tone(10.0),
    )
    technical = probe(source, MediaLimits())
    assert technical.duration_s == pytest.approx(10.0, abs=0.1)
    assert technical.frame_count == 50
    make_proxy(source, tmp_path / "proxy.mp4")
    with av.open(str(tmp_path / "proxy.mp4")) as container:
        assert container.streams.video[0].frames == 50
        assert container.duration / 1e6 == pytest.approx(10.0, abs=0.2)
