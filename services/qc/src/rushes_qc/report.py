"""Verdicts of one rendition: the RenditionQc message of the event and the full JSON report.

Pure (no storage, no bus): the job stores what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rushes.events.v1 import events_pb2

from rushes_qc.analyzer import KeptFrame
from rushes_qc.compare import Comparison
from rushes_qc.presets import Preset, ResolvedRules
from rushes_qc.verdict import ShotVerdict, judge, worst
from rushes_qc.version import PRODUCER, VERSION

MODEL = f"{PRODUCER}-detectors"
# Whole-rendition aggregates worth a glance in `rushes show` (per-shot values are in the shots).
_SUMMARY = ("ssim_mean", "psnr_db_mean", "vmaf_mean", "flicker_excess", "halo_overshoot", "colour_shift_de")


@dataclass
class JudgedShot:
    index: int
    verdict: ShotVerdict
    diff_maps: list[KeptFrame] = field(default_factory=list)


def judge_comparison(
    comparison: Comparison,
    rules: ResolvedRules,
    preset: Preset,
    extra: dict[int, dict[str, float]] | None = None,
) -> list[JudgedShot]:
    """Verdict per shot; `extra`: shot index -> metrics measured outside the decode (faces, VMAF)."""
    judged = []
    for shot in comparison.shots:
        shot.metrics.update({k: round(v, 4) for k, v in (extra or {}).get(shot.index, {}).items()})
        verdict = judge(shot.metrics, rules, shot.worst_frames)
        maps: list[KeptFrame] = []
        if verdict.needs_review and preset.analysis.diff_maps:
            wanted = [f.metric for f in verdict.failures]
            by_metric = {k.metric: k for k in shot.kept}
            # The failing metric's own worst frame when kept, else the frame with the lowest SSIM.
            for metric in [*wanted, "ssim"]:
                kept = by_metric.get(metric)
                if kept is not None and kept not in maps:
                    maps.append(kept)
                if len(maps) >= preset.analysis.diff_maps:
                    break
        judged.append(JudgedShot(index=shot.index, verdict=verdict, diff_maps=maps))
    return judged


def rendition_qc(
    rendition: events_pb2.Rendition,
    comparison: Comparison,
    judged: list[JudgedShot],
    *,
    preset: Preset,
    notes: list[str],
    diff_map_keys: dict[int, list[str]],
    report_key: str,
) -> events_pb2.RenditionQc:
    result = _base(rendition, preset)
    result.frames_compared = comparison.frames_compared
    result.report_key = report_key
    result.notes.extend([*comparison.notes, *notes])
    by_index = {j.index: j for j in judged}
    for shot in comparison.shots:
        verdict = by_index[shot.index].verdict
        proto = result.shots.add(
            index=shot.index,
            start_frame=shot.start_frame,
            end_frame=shot.end_frame,
            verdict=verdict.verdict,
            confidence=verdict.confidence,
            reasons=verdict.reasons,
            diff_maps=diff_map_keys.get(shot.index, []),
        )
        for name, value in shot.metrics.items():
            proto.metrics[name] = value
        for check in verdict.failures:
            proto.failures.add(
                metric=check.metric,
                value=round(check.value, 4),
                threshold=check.threshold,
                direction=check.direction,
                verdict=check.verdict,
                worst_frame=check.worst_frame,
            )
    for name in _SUMMARY:
        values = [s.metrics[name] for s in comparison.shots if name in s.metrics]
        if values:
            result.metrics[name] = round(
                min(values) if name.startswith(("ssim", "psnr", "vmaf")) else max(values), 4
            )
    result.verdict = worst([s.verdict for s in result.shots])
    result.needs_review = result.verdict != "pass"
    return result


def failed_rendition(rendition: events_pb2.Rendition, preset: Preset, error: str) -> events_pb2.RenditionQc:
    """A rendition that could not be checked: a clear failure for review, never a silent pass."""
    result = _base(rendition, preset)
    result.error = error
    result.verdict = "fail"
    result.needs_review = True
    return result


def _base(rendition: events_pb2.Rendition, preset: Preset) -> events_pb2.RenditionQc:
    return events_pb2.RenditionQc(
        fix=rendition.fix,
        object_key=rendition.object_key,
        source_key=rendition.source_key,
        version=rendition.version,
        preset=preset.name,
        model=MODEL,
        model_version=VERSION,
    )


def json_report(result: events_pb2.RenditionQc, comparison: Comparison | None) -> dict[str, Any]:
    """The stored report: the event's content plus per-frame series of every shot, and the
    geometry the comparison used."""
    from google.protobuf import json_format

    report: dict[str, Any] = json_format.MessageToDict(result, preserving_proto_field_name=True)
    if comparison is not None:
        g = comparison.geometry
        report["geometry"] = {
            "source": [g.source_width, g.source_height],
            "rendition": [g.rendition_width, g.rendition_height],
            "crop": [g.crop_x, g.crop_y, g.crop_width, g.crop_height],
            "analysis": [g.analysis_width, g.analysis_height],
            "scale": round(g.scale, 4),
        }
        report["frames"] = {
            str(shot.index): {"frames": shot.frames, "series": shot.series} for shot in comparison.shots
        }
    return report
