"""Multi-channel sources: besides the mono ASR WAV, a WAV that keeps each channel apart."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from rushes_media import extract_audio_wav, make_proxy_and_wav, open_pcm_wav

RATE = 48000


def _source(path: Path, channels: int, *, video: bool = False, seconds: float = 2.0) -> Path:
    """Channel c carries a tone of 300 * (c + 1) Hz in its own second half-second slot, else silence."""
    layout = {1: "mono", 2: "stereo", 4: "quad"}[channels]
    with av.open(str(path), "w") as container:
        picture = container.add_stream("libx264", rate=25) if video else None
        if picture is not None:
            picture.width, picture.height, picture.pix_fmt = 64, 64, "yuv420p"
        sound = container.add_stream("aac", rate=RATE, layout=layout)
        total = int(seconds * RATE)
        t = np.arange(total) / RATE
        pcm = np.zeros((channels, total), np.float32)
        for c in range(channels):
            slot = (t >= 0.5 * c) & (t < 0.5 * c + 0.4)
            pcm[c, slot] = 0.4 * np.sin(2 * np.pi * 300 * (c + 1) * t[slot])
        if picture is not None:
            for i in range(int(seconds * 25)):
                frame = av.VideoFrame.from_ndarray(
                    np.full((64, 64, 3), i * 4 % 255, np.uint8), format="rgb24"
                )
                for packet in picture.encode(frame):
                    container.mux(packet)
            for packet in picture.encode():
                container.mux(packet)
        for start in range(0, total, 1024):
            block = np.ascontiguousarray(pcm[:, start : start + 1024])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
            for packet in sound.encode(frame):
                container.mux(packet)
        for packet in sound.encode():
            container.mux(packet)
    return path


def _loudest_slot(samples: np.ndarray) -> int:
    slots = [np.abs(samples[int(i * 0.5 * 16000) : int((i * 0.5 + 0.4) * 16000)]).mean() for i in range(4)]
    return int(np.argmax(slots))


def test_each_channel_keeps_its_own_sound(tmp_path: Path) -> None:
    source = _source(tmp_path / "quad.m4a", 4)
    mono, apart = tmp_path / "mono.wav", tmp_path / "channels.wav"
    assert extract_audio_wav(source, mono, channels_wav_path=apart)
    wav = open_pcm_wav(apart)
    assert (wav.channels, wav.sample_rate) == (4, 16000)
    assert abs(wav.duration_s - open_pcm_wav(mono).duration_s) < 0.01
    for channel in range(4):
        assert _loudest_slot(wav.read(channel=channel)) == channel


def test_the_proxy_pass_writes_it_too_and_mono_sources_do_not(tmp_path: Path) -> None:
    stereo = _source(tmp_path / "stereo.mp4", 2, video=True)
    apart = tmp_path / "channels.wav"
    assert make_proxy_and_wav(stereo, tmp_path / "p.mp4", tmp_path / "m.wav", channels_wav_path=apart)
    assert open_pcm_wav(apart).channels == 2
    mono_source = _source(tmp_path / "mono.m4a", 1)
    not_written = tmp_path / "none.wav"
    assert extract_audio_wav(mono_source, tmp_path / "m2.wav", channels_wav_path=not_written)
    assert not not_written.exists()
