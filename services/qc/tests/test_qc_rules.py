"""Pure logic: presets validation, verdicts, geometry checks and identity drift (no servers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rushes_qc.align import GeometryError, plan_geometry
from rushes_qc.identity import FaceSample, identity_metrics
from rushes_qc.presets import PresetError, get_preset, load_presets
from rushes_qc.verdict import judge, worst


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "presets.yaml"
    path.write_text(body)
    return path


def test_shipped_presets_load_and_fixes_override_generic() -> None:
    preset = get_preset()
    assert preset.name == "studio"
    stabilize = preset.rules("stabilize")
    assert stabilize.motion_compensate and "jitter_excess_px" not in stabilize.thresholds
    assert (
        preset.rules("upscale").thresholds["halo_overshoot"].review
        > preset.rules("generic").thresholds["halo_overshoot"].review
    )
    assert preset.rules("made-elsewhere").thresholds == preset.rules("generic").thresholds


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "default: a\npresets:\n  a:\n    fixes:\n      generic:\n        thresholds:\n          sharpness: {review: 1, fail: 2}\n",
            "unknown metric 'sharpness'",
        ),
        (
            "default: a\npresets:\n  a:\n    fixes:\n      generic:\n        thresholds:\n          ssim_mean: {review: 0.8, fail: 0.9}\n",
            "fail (0.9) must be below review (0.8)",
        ),
        (
            "default: a\npresets:\n  a:\n    fixes:\n      sharpen: {}\n      generic: {}\n",
            "unknown fixes ['sharpen']",
        ),
        ("default: a\npresets:\n  a:\n    fixes:\n      denoise: {}\n", "needs 'generic' rules"),
        (
            "default: b\npresets:\n  a:\n    fixes:\n      generic: {}\n",
            "default QC preset 'b' is not one of the presets",
        ),
        (
            "default: a\npresets:\n  a:\n    analysis: {tile: 100}\n    fixes:\n      generic: {}\n",
            "power of two",
        ),
        ("- not a mapping\n", "expected a mapping"),
    ],
)
def test_bad_presets_files_are_refused_naming_the_field(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(PresetError) as caught:
        load_presets(_write(tmp_path, body))
    assert message in str(caught.value)


def test_unknown_preset_name_lists_the_known_ones() -> None:
    with pytest.raises(PresetError, match="unknown QC preset 'nope'; known: lenient, studio"):
        get_preset("nope")


def test_verdict_bands_reasons_and_confidence() -> None:
    rules = get_preset().rules("generic")
    clean = judge({"ssim_mean": 0.99, "halo_overshoot": 0.2}, rules)
    assert clean.verdict == "pass" and not clean.needs_review and clean.confidence > 0.9
    flagged = judge({"ssim_mean": 0.99, "halo_overshoot": 4.0}, rules, {"halo_overshoot": 12})
    assert flagged.verdict == "review" and flagged.needs_review
    assert flagged.reasons == ["halo_overshoot=4>3 (review)"] and flagged.failures[0].worst_frame == 12
    failed = judge({"ssim_mean": 0.5, "halo_overshoot": 4.0}, rules)
    assert failed.verdict == "fail" and [f.metric for f in failed.failures] == ["ssim_mean", "halo_overshoot"]
    unmeasured = judge({}, rules)
    assert unmeasured.verdict == "pass"
    assert (
        worst(["pass", "review"]) == "review"
        and worst(["review", "fail", "pass"]) == "fail"
        and worst([]) == "pass"
    )


def test_geometry_crop_scale_and_mismatches() -> None:
    upscale = plan_geometry((640, 360), (1280, 720), scale=2.0, crop_fraction=0.0, analysis_width=320)
    assert upscale.scale == 2.0 and (upscale.analysis_width, upscale.analysis_height) == (320, 180)
    cropped = plan_geometry((640, 360), (640, 360), scale=1.0, crop_fraction=0.05, analysis_width=320)
    assert (cropped.crop_x, cropped.crop_width) == (32, 576)  # crop then back to the source's size
    with pytest.raises(GeometryError, match="the rendition is 640x480"):
        plan_geometry((640, 360), (640, 480), scale=1.0, crop_fraction=0.0, analysis_width=320)
    with pytest.raises(GeometryError, match=r"scale 2\.0 of the 640x360 source window means 1280x720"):
        plan_geometry((640, 360), (960, 540), scale=2.0, crop_fraction=0.0, analysis_width=320)
    with pytest.raises(GeometryError, match=r"crop_fraction 0\.5"):
        plan_geometry((640, 360), (640, 360), scale=1.0, crop_fraction=0.5, analysis_width=320)


def _sample(source_boxes: list[list[float]], rendition_boxes: list[list[float]]) -> FaceSample:
    rng = np.random.default_rng(0)
    luma = rng.normal(128, 20, (120, 160)).astype(np.float32)
    return FaceSample(3, luma, luma.copy(), np.array(source_boxes, np.float32).reshape(-1, 5),
                      np.array(rendition_boxes, np.float32).reshape(-1, 5))  # fmt: skip


def test_identity_drift_from_face_boxes() -> None:
    kept = identity_metrics([_sample([[40, 30, 40, 50, 0.9]], [[41, 30, 40, 50, 0.9]])])
    assert kept["identity_drift"] == pytest.approx(0.02) and kept["face_size_change"] == 0.0
    assert kept["skin_texture_retention"] == pytest.approx(1.0)
    reshaped = identity_metrics([_sample([[40, 30, 40, 50, 0.9]], [[40, 25, 40, 62, 0.9]])])
    assert reshaped["face_size_change"] == pytest.approx(0.24) and reshaped["identity_drift"] > 0.0
    lost = identity_metrics([_sample([[40, 30, 40, 50, 0.9]], [])])
    assert lost["identity_drift"] == 1.0
    assert identity_metrics([_sample([[40, 30, 40, 50, 0.2]], [])]) == {}  # unsure faces do not count


def test_every_check_is_kept_for_the_log_with_both_thresholds() -> None:
    rules = get_preset("studio").rules("generic")
    verdict = judge({"ssim_mean": 0.99, "halo_overshoot": 7.0, "flicker_excess": 4.0}, rules)
    by_metric = {c.metric: c for c in verdict.checks}
    assert set(by_metric) == {"ssim_mean", "halo_overshoot", "flicker_excess"}
    assert (by_metric["ssim_mean"].verdict, by_metric["ssim_mean"].threshold) == ("pass", 0.90)
    assert (by_metric["halo_overshoot"].verdict, by_metric["halo_overshoot"].threshold) == ("fail", 6.0)
    assert (by_metric["flicker_excess"].review_threshold, by_metric["flicker_excess"].fail_threshold) == (
        3.0,
        6.0,
    )
    assert by_metric["flicker_excess"].verdict == "review" and verdict.verdict == "fail"


def test_log_rows_of_a_failed_rendition_and_their_order() -> None:
    from rushes.events.v1 import events_pb2
    from rushes_qc import checklog

    failed = events_pb2.RenditionQc(
        fix="denoise", object_key="assets/k", verdict="fail", error="rendition_missing: x"
    )
    (row,) = checklog.rows_for(failed, [], 1_700_000_000.0)
    assert (
        row["metric"] == "checkable" and row["verdict"] == "fail" and row["detail"] == "rendition_missing: x"
    )
    assert row["time"] == "2023-11-14T22:13:20.000+00:00"
    later = {**row, "time": "2024-01-01T00:00:00.000+00:00", "metric": "a"}
    assert checklog.ordered([later, row]) == [row, later]
    with pytest.raises(ValueError, match="QC log object k is unreadable"):
        checklog.parse(b"[]", "k")


def test_an_upload_is_bounded_before_it_is_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rushes_qc.external import RenditionUpload, UploadRejected, external_key

    sha = "ab" * 32
    assert external_key("c" * 32, sha, "Shot.MOV") == f"assets/{'c' * 32}/renditions/external/{sha[:16]}.mov"
    assert external_key("c" * 32, sha, "weird.ext!") == f"assets/{'c' * 32}/renditions/external/{sha[:16]}"
    with pytest.raises(UploadRejected, match="size_bytes must be"):
        RenditionUpload("c" * 32, "x.mp4", 0, sha, path=tmp_path / "u", max_bytes=10)
    with pytest.raises(UploadRejected, match="the limit is 10"):
        RenditionUpload("c" * 32, "x.mp4", 11, sha, path=tmp_path / "u", max_bytes=10)
    assert not (tmp_path / "u").exists()
