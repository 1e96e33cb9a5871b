"""Shot boundaries: rushes_tagging.shots vs PySceneDetect's AdaptiveDetector, side by side.

Target: on every labelled clip set, pooled F1 (at +-2 frames) at least PySceneDetect's, at no
lower frames per second. Both detectors run on the same files in the same process, alternating,
best of N timed runs each, so machine noise hits both.

Clips: the committed samples (tests/fixtures/samples, TRUTH.json), the development clips in
/work/shared/eval/dev when that folder exists (labels from its README), and generated clips
(rushes_tagging.shots.synthetic.catalogue: cuts with motion, cuts within one location, flashes,
whip pans, fast objects, fades, dissolves, exposure drift, 29.97 VFR rotated anamorphic).

Scoring unit: a shot boundary, i.e. a transition that separates two shots. Black at the very
start or end of a clip (a fade in from it, a fade out into it) separates nothing and is not
scored. Each truth boundary is a span of frames [first, last]: one frame for a cut (the first
frame of the new shot), the dissolve's mixed frames, or fade out + black + fade in for a fade.
A detected boundary is a span too: PySceneDetect reports one frame (a scene's first frame);
ours reports the opening transition's span (Shot.transition_start_frame..transition_end_frame).
A detection matches a truth boundary when any frame of it lies within 2 frames of any frame of
the truth span; matching is one-to-one, closest first. Unmatched detections are false
positives, unmatched truths misses.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import av
from rushes_tagging.shots import detect_shots
from rushes_tagging.shots.synthetic import catalogue, write_clip

TOLERANCE = 2
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "tests" / "fixtures" / "samples"
DEV = Path("/work/shared/eval/dev")
DEV_TRUTH: dict[str, list[tuple[int, int]]] = {
    # From /work/shared/eval/dev/README.md. bbb's fade-in over frames 0-48 opens the clip (nothing
    # before it), so it is not a boundary; fades.mp4's boundaries are single frames there.
    "bbb_0_30.webm": [(283, 283), (376, 376), (551, 551)],
    "fades.mp4": [(84, 84), (167, 167)],
    "counter.mp4": [(10, 10), (20, 20)],
}

Span = tuple[int, int]  # inclusive [first, last]


@dataclass
class Clip:
    name: str
    source: str  # "samples" | "dev" | "generated"
    path: Path
    truth: list[Span]
    frames: int = 0


def _gradual_span(items: list[dict], boundary: int) -> Span | None:
    """The fade/dissolve entries that touch `boundary`, merged into one inclusive span."""
    touching = [g for g in items if g["start_frame"] - 1 <= boundary <= g["end_frame"]]
    if not touching:
        return None
    return min(g["start_frame"] for g in touching), max(g["end_frame"] for g in touching) - 1


def truth_from_shots(shots: list[dict], gradual: list[dict]) -> list[Span]:
    """Boundaries (one per shot after the first) from a TRUTH-style shot list."""
    spans = []
    for shot in shots[1:]:
        start = shot["start_frame"]
        if shot["transition_in"] == "cut":
            spans.append((start, start))
        else:
            spans.append(_gradual_span(gradual, start) or (start, start))
    return spans


def sample_clips() -> list[Clip]:
    truth = json.loads((SAMPLES / "TRUTH.json").read_text())["clips"]
    clips = []
    for name, info in sorted(truth.items()):
        if not info.get("has_video"):
            continue
        spans = truth_from_shots(info["shots"], info.get("fades", []))
        clips.append(Clip(name, "samples", SAMPLES / name, spans))
    return clips


def dev_clips() -> list[Clip]:
    return [
        Clip(name, "dev", DEV / name, spans) for name, spans in DEV_TRUTH.items() if (DEV / name).is_file()
    ]


def generated_clips(folder: Path, *, quick: bool) -> list[Clip]:
    width, height = (320, 180) if quick else (640, 360)
    clips = []
    for name, spec in catalogue(width, height).items():
        path = folder / f"{name}.mp4"
        truth = write_clip(path, replace(spec, seed=7))
        clips.append(Clip(name, "generated", path, truth_from_shots(truth["shots"], truth["gradual"])))
    return clips


def ours(path: Path) -> list[Span]:
    result = detect_shots(path)
    return [
        (s.transition_start_frame, max(s.transition_start_frame, s.transition_end_frame - 1))
        for s in result.shots[1:]
    ]


def peer(path: Path) -> list[Span]:
    """PySceneDetect's recommended API at default settings (OpenCV backend, auto downscale)."""
    from scenedetect import AdaptiveDetector, detect

    scenes = detect(str(path), AdaptiveDetector())
    return [(start.frame_num, start.frame_num) for start, _ in scenes[1:]]


def match(truth: list[Span], found: list[Span], tolerance: int = TOLERANCE) -> tuple[int, int, int]:
    """(true positives, false positives, misses) under the module's matching rule."""
    pairs = []
    for t_index, (t_first, t_last) in enumerate(truth):
        for f_index, (f_first, f_last) in enumerate(found):
            gap = max(0, f_first - t_last, t_first - f_last)
            if gap <= tolerance:
                pairs.append((gap, t_index, f_index))
    used_truth, used_found = set(), set()
    for _gap, t_index, f_index in sorted(pairs):
        if t_index not in used_truth and f_index not in used_found:
            used_truth.add(t_index)
            used_found.add(f_index)
    tp = len(used_truth)
    return tp, len(found) - tp, len(truth) - tp


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _timed(fn: Callable[[Path], list[Span]], path: Path) -> tuple[list[Span], float]:
    start = time.perf_counter()
    found = fn(path)
    return found, time.perf_counter() - start


def run(*, quick: bool = False) -> dict[str, object]:
    logging.getLogger("pyscenedetect").setLevel(logging.WARNING)
    rounds = 1 if quick else 3
    per_clip: dict[str, dict[str, object]] = {}
    totals = {
        side: {"tp": 0, "fp": 0, "fn": 0, "frames": 0, "seconds": 0.0} for side in ("rushes", "pyscenedetect")
    }
    by_source: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        clips = sample_clips() + dev_clips() + generated_clips(Path(tmp), quick=quick)
        for clip in clips:
            clip.frames = frame_count(clip.path)
            results = {}
            best = {"rushes": float("inf"), "pyscenedetect": float("inf")}
            for _ in range(rounds):
                for side, fn in (("pyscenedetect", peer), ("rushes", ours)):
                    found, seconds = _timed(fn, clip.path)
                    best[side] = min(best[side], seconds)
                    results[side] = found
            entry: dict[str, object] = {"source": clip.source, "frames": clip.frames, "truth": clip.truth}
            for side in ("rushes", "pyscenedetect"):
                tp, fp, fn = match(clip.truth, results[side])
                entry[side] = {
                    **prf(tp, fp, fn),
                    "tp": tp,
                    "fp": fp,
                    "fn": fn,
                    "fps": round(clip.frames / best[side], 1),
                    "found": results[side],
                }
                for bucket in (
                    totals[side],
                    by_source.setdefault(clip.source, {}).setdefault(
                        side, {"tp": 0, "fp": 0, "fn": 0, "frames": 0, "seconds": 0.0}
                    ),
                ):
                    bucket["tp"] += tp
                    bucket["fp"] += fp
                    bucket["fn"] += fn
                    bucket["frames"] += clip.frames
                    bucket["seconds"] += best[side]
            per_clip[clip.name] = entry

    def summary(bucket: dict[str, float]) -> dict[str, object]:
        return {
            **prf(int(bucket["tp"]), int(bucket["fp"]), int(bucket["fn"])),
            "tp": int(bucket["tp"]),
            "fp": int(bucket["fp"]),
            "fn": int(bucket["fn"]),
            "fps": round(bucket["frames"] / bucket["seconds"], 1) if bucket["seconds"] else 0.0,
        }

    pooled = {side: summary(bucket) for side, bucket in totals.items()}
    sources = {src: {side: summary(b) for side, b in sides.items()} for src, sides in by_source.items()}
    f1_ok = all(s["rushes"]["f1"] >= s["pyscenedetect"]["f1"] for s in sources.values()) and (
        pooled["rushes"]["f1"] >= pooled["pyscenedetect"]["f1"]
    )
    fps_ok = pooled["rushes"]["fps"] >= pooled["pyscenedetect"]["fps"]
    return {
        "rule": f"boundary spans matched one-to-one within +-{TOLERANCE} frames (see bench/shots.py)",
        "rounds": rounds,
        "clips": per_clip,
        "by_source": sources,
        "pooled": pooled,
        "target": "F1 >= PySceneDetect AdaptiveDetector (pooled and per clip set), fps >= PySceneDetect",
        "meets_f1": f1_ok,
        "meets_fps": fps_ok,
        "meets_target": f1_ok and fps_ok,
    }
