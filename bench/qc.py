"""QC throughput (frame pairs/s) as a ratio to decoding both streams, and detection rates.

Throughput: rushes_qc.compare_files on a generated 720p pair (a source and an over-sharpened
re-encode of it, what the enhance service's proxy-based renditions look like) and on a 2x upscale
pair (360p -> 720p), against threaded PyAV decode of the same two files in the same run.
Target: ratio >= 0.5. `ratio_with_vmaf`: the same with the optional VMAF pass (preset
analysis.vmaf, run after the comparison) added to the QC time. Detection: the generated set of rushes_qc.synthetic (injected failures
flagged, clean and mildly re-encoded fixes passed), the figures the issue asks for (>= 90 % / <= 5 %).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import av
import imageio_ffmpeg
from rushes_config import MediaLimits
from rushes_qc import synthetic, vmaf
from rushes_qc.compare import compare_files
from rushes_qc.presets import get_preset
from rushes_qc.verdict import judge
from rushes_testing.media_builders import write_video

from bench.ingest import generate_clip

TARGET_RATIO = 0.5


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True
    )


def decode_pair_fps(source: Path, rendition: Path) -> float:
    """Frame pairs per second when only decoding both files (threaded), one after the other."""
    start = time.perf_counter()
    frames = 0
    for path in (source, rendition):
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            frames = max(frames, sum(1 for _ in container.decode(stream)))
    return frames / (time.perf_counter() - start)


def qc_pair_fps(source: Path, rendition: Path, fix: str, scale: float) -> float:
    preset = get_preset()
    start = time.perf_counter()
    comparison = compare_files(source, rendition, rules=preset.rules(fix), preset=preset, limits=MediaLimits(),
                               scale=scale)  # fmt: skip
    return comparison.frames_compared / (time.perf_counter() - start)


def vmaf_pair_fps(source: Path, rendition: Path, fix: str, scale: float) -> float:
    """Frame pairs per second of the VMAF pass alone (ffmpeg libvmaf, a third decode of both)."""
    preset = get_preset()
    comparison = compare_files(source, rendition, rules=preset.rules(fix), preset=preset, limits=MediaLimits(),
                               scale=scale)  # fmt: skip
    plan = vmaf.plan_vmaf(comparison, motion_compensate=preset.rules(fix).motion_compensate)
    assert not isinstance(plan, str), plan
    start = time.perf_counter()
    scores = vmaf.vmaf_per_frame(source, rendition, plan)
    return len(scores) / (time.perf_counter() - start)


def _measure(source: Path, rendition: Path, fix: str, scale: float, rounds: int) -> dict[str, object]:
    decode = max(decode_pair_fps(source, rendition) for _ in range(rounds))
    qc = max(qc_pair_fps(source, rendition, fix, scale) for _ in range(rounds))
    with_vmaf = 1.0 / (
        1.0 / qc + 1.0 / max(vmaf_pair_fps(source, rendition, fix, scale) for _ in range(rounds))
    )
    return {"decode_pair_fps": round(decode, 1), "qc_pair_fps": round(qc, 1), "ratio": round(qc / decode, 3),
            "qc_with_vmaf_pair_fps": round(with_vmaf, 1), "ratio_with_vmaf": round(with_vmaf / decode, 3)}  # fmt: skip


def detection_rates(tmp: Path, seeds: tuple[int, ...]) -> dict[str, object]:
    preset = get_preset()
    flagged: dict[str, int] = {}
    false_alarms = clean_runs = injected_runs = 0
    for case in synthetic.cases():
        for seed in seeds:
            for crf in ("12",) if case.artefact else ("12", "28"):
                source_frames, rendition_frames = case.make(seed)
                paths = []
                for name, frames, quality in (("s", source_frames, "12"), ("r", rendition_frames, crf)):
                    h, w = frames[0].shape[:2]
                    paths.append(write_video(tmp / f"{case.name}-{seed}-{crf}-{name}.mp4", frames, width=w, height=h,
                                             codec_options={"crf": quality, "preset": "veryfast"}))  # fmt: skip
                rules = preset.rules(case.fix)
                (shot,) = compare_files(
                    *paths, rules=rules, preset=preset, limits=MediaLimits(), scale=case.scale
                ).shots
                verdict = judge(shot.metrics, rules)
                if case.artefact:
                    injected_runs += 1
                    hit = case.expect_metric in {f.metric for f in verdict.failures}
                    flagged[case.name] = flagged.get(case.name, 0) + int(hit)
                else:
                    clean_runs += 1
                    false_alarms += int(verdict.needs_review)
    return {
        "injected": injected_runs,
        "detected_by_own_metric": sum(flagged.values()),
        "detection_rate": round(sum(flagged.values()) / injected_runs, 3),
        "per_failure": flagged,
        "clean": clean_runs,
        "false_alarm_rate": round(false_alarms / clean_runs, 3),
        "target": "detection >= 0.9, false alarms <= 0.05",
    }


def run(*, quick: bool = False) -> dict[str, object]:
    rounds = 1 if quick else 2
    seconds = 3 if quick else 8
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        source = generate_clip(tmp / "source_720p.mp4", seconds, 1280, 720)
        sharpened = tmp / "sharpened_720p.mp4"
        _ffmpeg("-i", str(source), "-vf", "unsharp=5:5:1.5", "-an", "-c:v", "libx264", "-preset", "veryfast",
                "-crf", "20", str(sharpened))  # fmt: skip
        small = tmp / "source_360p.mp4"
        _ffmpeg("-i", str(source), "-vf", "scale=640:360", "-an", "-c:v", "libx264", "-preset", "veryfast",
                "-crf", "20", str(small))  # fmt: skip
        upscaled = tmp / "upscaled_720p.mp4"
        _ffmpeg("-i", str(small), "-vf", "scale=1280:720:flags=lanczos", "-c:v", "libx264", "-preset", "veryfast",
                "-crf", "20", str(upscaled))  # fmt: skip
        pairs = {
            "720p_sharpened": _measure(source, sharpened, "denoise", 1.0, rounds),
            "360p_to_720p_upscale": _measure(small, upscaled, "upscale", 2.0, rounds),
        }
        detection = detection_rates(tmp, (0,) if quick else (0, 1, 2))
    worst = min(float(p["ratio"]) for p in pairs.values())  # type: ignore[arg-type]
    return {
        "pairs": pairs,
        "worst_ratio": worst,
        "target": f">= {TARGET_RATIO}",
        "meets_target": worst >= TARGET_RATIO,
        "detection": detection,
    }
