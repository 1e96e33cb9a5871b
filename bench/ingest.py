"""Ingest wall time (probe + proxy + poster + 16 kHz audio) vs the ffmpeg CLI doing the same work.

Target: rushes / ffmpeg <= 1.2 on a generated 1080p H.264 clip of at least 30 s. Both sides run
on the same file in the same run, alternating, best of N, so machine noise hits both.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg
from rushes_config import MediaLimits
from rushes_media import make_poster, make_proxy_and_wav, probe

TARGET_RATIO = 1.2


def generate_clip(path: Path, seconds: int, width: int, height: int) -> Path:
    """A 1080p H.264/AAC clip with real motion and detail (testsrc2 + noise), made by ffmpeg."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-vf", "noise=alls=12:allf=t",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-ac", "2", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def rushes_ingest_work(src: Path, out: Path) -> None:
    """What the ingest service runs per file (rushes_ingest.pipeline), minus the uploads."""
    limits = MediaLimits()
    probe(src, limits)
    make_proxy_and_wav(
        src, out / "proxy.mp4", out / "audio.wav", max_height=720, sample_rate=16000, limits=limits
    )
    make_poster(src, out / "poster.jpg", limits=limits)


def ffmpeg_ingest_work(src: Path, out: Path) -> None:
    """The same outputs with the ffmpeg CLI, also in one decode pass; settings mirror rushes_media.proxy."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    quiet = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run([ffmpeg, "-hide_banner", "-i", str(src)], capture_output=True)  # the probe (exits 1)
    subprocess.run(
        [*quiet, "-i", str(src),
         "-vf", "scale=-2:720:flags=bicubic,setsar=1,format=yuv420p", "-c:v", "libx264", "-preset", "fast",
         "-crf", "23", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(out / "proxy.mp4"),
         "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(out / "audio.wav")],
        check=True,
    )  # fmt: skip
    subprocess.run(
        [*quiet, "-ss", "3", "-i", str(src), "-frames:v", "1", "-q:v", "3", str(out / "poster.jpg")],
        check=True,
    )


def _timed(fn, src: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        fn(src, Path(tmp))
        return time.perf_counter() - start


def run(*, quick: bool = False) -> dict[str, object]:
    seconds, rounds = (6, 1) if quick else (30, 3)
    with tempfile.TemporaryDirectory() as tmp:
        clip = generate_clip(Path(tmp) / "bench_1080p.mp4", seconds, 1920, 1080)
        ours, theirs = [], []
        for _ in range(rounds):
            theirs.append(_timed(ffmpeg_ingest_work, clip))
            ours.append(_timed(rushes_ingest_work, clip))
        size = clip.stat().st_size
    best_ours, best_theirs = min(ours), min(theirs)
    return {
        "input": {"seconds": seconds, "size": "1920x1080", "codec": "h264", "bytes": size},
        "rushes_s": {"best": round(best_ours, 3), "median": round(statistics.median(ours), 3)},
        "ffmpeg_cli_s": {"best": round(best_theirs, 3), "median": round(statistics.median(theirs), 3)},
        "ratio": round(best_ours / best_theirs, 3),
        "target": f"<= {TARGET_RATIO}",
        "meets_target": best_ours / best_theirs <= TARGET_RATIO,
    }
