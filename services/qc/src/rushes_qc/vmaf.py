"""VMAF per frame through the ffmpeg CLI's libvmaf (the imageio-ffmpeg build has it; PyAV's does not).

VMAF compares whole pictures of the same geometry frame by frame, so it applies only where the
rendition shows the source's whole picture on the source's frame grid: denoise and generic fixes of
the same size, and upscales, whose rendition is scaled back down to the source size (bicubic)
first; so VMAF judges what survives at the source resolution, not the detail the upscaler added.
A crop (stabilize) or a rendition that holds only some shots' frames is not comparable: the caller
gets the reason instead of a score.

Both files have already passed rushes_media's probe (compare_files) before ffmpeg sees them; ffmpeg
still reads them as local files only, without stdin, under a time limit.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from rushes_qc.compare import Comparison

MODEL = "vmaf_v0.6.1"
DEFAULT_TIMEOUT_S = 3600.0


class VmafError(RuntimeError):
    """ffmpeg could not compute VMAF for this pair (the note names why)."""


@dataclass(frozen=True)
class VmafPlan:
    source_width: int
    source_height: int
    rescaled: bool  # the rendition is scaled to the source size first (an upscale)


def plan_vmaf(comparison: Comparison, *, motion_compensate: bool) -> VmafPlan | str:
    """How to run VMAF on this pair, or why it does not apply (a note for the report)."""
    g = comparison.geometry
    if motion_compensate:
        return "vmaf: not applicable (a stabilized rendition is the source moved frame by frame)"
    if (g.crop_x, g.crop_y, g.crop_width, g.crop_height) != (0, 0, g.source_width, g.source_height):
        return "vmaf: not applicable (the rendition shows a crop of the source)"
    if comparison.rendition_frames != comparison.source_frames:
        return (
            f"vmaf: not applicable (the rendition has {comparison.rendition_frames} frames, "
            f"the source {comparison.source_frames}: frames are not paired one to one)"
        )
    return VmafPlan(g.source_width, g.source_height, rescaled=(g.rendition_width, g.rendition_height)
                    != (g.source_width, g.source_height))  # fmt: skip


def filter_graph(plan: VmafPlan, log_path: Path, threads: int) -> str:
    """Rendition (main) and source (reference) on one timeline, one pixel format, one size."""
    scale = f"scale={plan.source_width}:{plan.source_height}:flags=bicubic," if plan.rescaled else ""
    log = str(log_path).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")
    return (
        f"[0:v:0]{scale}format=yuv420p,setpts=PTS-STARTPTS[main];"
        "[1:v:0]format=yuv420p,setpts=PTS-STARTPTS[ref];"
        f"[main][ref]libvmaf=model=version={MODEL}:log_fmt=json:log_path='{log}':n_threads={threads}"
    )


def vmaf_per_frame(
    source: Path, rendition: Path, plan: VmafPlan, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> list[float]:
    """VMAF of every rendition frame against the source frame with the same index."""
    threads = max(1, min(os.cpu_count() or 1, 8))
    with tempfile.TemporaryDirectory(prefix="rushes-vmaf-") as tmp:
        log_path = Path(tmp) / "vmaf.json"
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
            "-protocol_whitelist", "file", "-i", f"file:{rendition}", "-i", f"file:{source}",
            "-lavfi", filter_graph(plan, log_path, threads), "-an", "-sn", "-dn", "-f", "null", "-",
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise VmafError(f"ffmpeg libvmaf took longer than {timeout_s:.0f} s") from None
        if done.returncode != 0 or not log_path.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise VmafError(f"ffmpeg libvmaf failed (exit {done.returncode}): {last[:200]}")
        return parse_log(log_path.read_text(encoding="utf-8"))


def parse_log(text: str) -> list[float]:
    """Per-frame scores of libvmaf's JSON log, in frame order."""
    try:
        frames = json.loads(text)["frames"]
        scores = [(int(f["frameNum"]), float(f["metrics"]["vmaf"])) for f in frames]
    except (ValueError, KeyError, TypeError) as exc:
        raise VmafError(f"unreadable libvmaf log: {exc}") from None
    return [score for _, score in sorted(scores) if math.isfinite(score)]


def per_shot(scores: Sequence[float], comparison: Comparison) -> dict[int, dict[str, float]]:
    """vmaf_mean and vmaf_min of each judged shot (frame index == asset frame index)."""
    result: dict[int, dict[str, float]] = {}
    for shot in comparison.shots:
        window = scores[shot.start_frame : min(shot.end_frame, len(scores))]
        if window:
            result[shot.index] = {
                "vmaf_mean": round(sum(window) / len(window), 3),
                "vmaf_min": round(min(window), 3),
            }
    return result
