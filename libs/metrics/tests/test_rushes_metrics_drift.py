"""The population stability index and the drift recorder (pure logic, no server)."""

from __future__ import annotations

import math

import pytest
from prometheus_client import REGISTRY
from rushes_metrics import (
    DistributionRecorder,
    init_qc_labels,
    population_stability_index,
    record_qc_check,
    record_review_verdict,
    time_model_call,
)


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_identical_distributions_have_zero_index_whatever_the_scale() -> None:
    assert population_stability_index({"a": 30, "b": 70}, {"a": 3, "b": 7}) == pytest.approx(0.0, abs=1e-12)


def test_index_matches_the_textbook_formula() -> None:
    expected = {"wide": 0.5, "medium": 0.3, "close_up": 0.2}
    actual = {"wide": 0.2, "medium": 0.3, "close_up": 0.5}
    by_hand = (0.2 - 0.5) * math.log(0.2 / 0.5) + 0 + (0.5 - 0.2) * math.log(0.5 / 0.2)
    assert population_stability_index(expected, actual) == pytest.approx(by_hand)
    assert by_hand > 0.25  # a shift the alert is meant to catch


def test_index_is_symmetric_and_grows_with_the_shift() -> None:
    base = {"ok": 80, "under": 10, "over": 10}
    small = {"ok": 75, "under": 13, "over": 12}
    large = {"ok": 40, "under": 50, "over": 10}
    assert population_stability_index(base, small) < 0.1 < population_stability_index(base, large)
    assert population_stability_index(base, large) == pytest.approx(population_stability_index(large, base))


def test_a_category_missing_on_one_side_is_smoothed_not_infinite() -> None:
    psi = population_stability_index({"a": 100}, {"a": 50, "new": 50})
    assert math.isfinite(psi) and psi > 1.0


@pytest.mark.parametrize(
    ("expected", "actual", "message"),
    [
        ({}, {"a": 1}, "expected distribution is empty"),
        ({"a": 1}, {"a": 0}, "actual distribution is empty"),
        ({"a": -1, "b": 3}, {"a": 1}, "count of 'a' is negative"),
        ({"a": float("nan")}, {"a": 1}, "not a finite number"),
        ({"a": "3"}, {"a": 1}, "not a finite number"),
    ],
)
def test_bad_counts_are_refused_with_the_category_named(
    expected: dict[str, float], actual: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        population_stability_index(expected, actual)


def test_epsilon_outside_its_range_is_refused() -> None:
    with pytest.raises(ValueError, match="epsilon"):
        population_stability_index({"a": 1}, {"a": 1}, epsilon=0.5)


def test_recorder_learns_a_baseline_then_publishes_psi_of_the_recent_window() -> None:
    rec = DistributionRecorder(
        "unit.shot_type", "shot_type", ["wide", "medium"], baseline_size=10, window_size=10, min_window=5
    )
    assert sample("rushes_model_output_psi", model="unit.shot_type", output="shot_type") == 0.0
    for i in range(10):
        rec.record("wide" if i % 2 else "medium", 0.9)
    assert rec.psi is None  # baseline learnt, window still empty
    for _ in range(4):
        rec.record("wide", 0.9)
    assert rec.psi is None  # fewer than min_window decisions since the baseline
    rec.record("wide", 0.9)
    assert rec.psi is not None and rec.psi > 0.25
    assert sample("rushes_model_output_psi", model="unit.shot_type", output="shot_type") == pytest.approx(
        rec.psi
    )
    assert (
        sample("rushes_model_outputs_total", model="unit.shot_type", output="shot_type", value="wide") == 10.0
    )


def test_recorder_with_a_given_baseline_sees_no_drift_when_the_mix_holds() -> None:
    rec = DistributionRecorder(
        "unit.exposure", "exposure", ["ok", "under", "over"], baseline={"ok": 8, "under": 1, "over": 1},
        window_size=10, min_window=10,
    )  # fmt: skip
    for verdict in ["ok"] * 8 + ["under", "over"]:
        rec.record(verdict, 0.7, needs_review=verdict != "ok")
    assert rec.psi == pytest.approx(0.0, abs=1e-9)
    assert sample("rushes_model_needs_review_total", model="unit.exposure", output="exposure") == 2.0
    assert sample("rushes_model_confidence_ratio_count", model="unit.exposure", output="exposure") == 10.0


def test_unknown_values_count_as_other_so_labels_stay_bounded() -> None:
    rec = DistributionRecorder("unit.category", "category", ["interview", "action"], baseline_size=1)
    assert rec.record("made-up label from a confused model", 0.5) == "other"
    assert rec.record({"verdict": "ok"}, 0.5) == "other"
    assert (
        sample("rushes_model_outputs_total", model="unit.category", output="category", value="other") == 2.0
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"categories": []}, "at least one category"),
        ({"categories": ["other"]}, "reserved"),
        ({"categories": ["Bad Label"]}, "value label 'Bad Label'"),
        ({"categories": ["a"], "min_window": 0}, "min_window 0"),
        ({"categories": ["a"], "window_size": 5, "min_window": 6}, "min_window 6"),
        ({"categories": ["a"], "baseline_size": 0}, "baseline_size 0"),
        ({"categories": ["a"], "baseline": {"b": 1}}, "unknown categories"),
        ({"categories": ["a"], "baseline": {"a": 0}}, "baseline distribution is empty"),
    ],
)
def test_recorder_configuration_errors_name_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DistributionRecorder("unit.bad", "field", **kwargs)  # type: ignore[arg-type]


def test_confidence_outside_unit_interval_is_refused() -> None:
    rec = DistributionRecorder("unit.conf", "field", ["a"])
    with pytest.raises(ValueError, match=r"confidence 1.5 is outside \[0, 1\]"):
        rec.record("a", 1.5)


def test_review_and_qc_counters_take_only_bounded_values() -> None:
    record_review_verdict("shot_type", "corrected")
    assert sample("rushes_review_verdicts_total", output="shot_type", verdict="corrected") == 1.0
    with pytest.raises(ValueError, match="review verdict 'maybe'"):
        record_review_verdict("shot_type", "maybe")
    init_qc_labels(["unit-denoise"])
    assert sample("rushes_qc_checks_total", fix="unit-denoise", result="fail") == 0.0
    record_qc_check("unit-denoise", passed=False)
    assert sample("rushes_qc_checks_total", fix="unit-denoise", result="fail") == 1.0
    with pytest.raises(ValueError, match="fix label"):
        record_qc_check("Denoise Pass 2", passed=True)


class Unavailable(Exception):
    pass


def test_model_call_timing_tracks_readiness_from_the_callers_side() -> None:
    with time_model_call("unit_model", unavailable=(Unavailable,)):
        pass
    assert sample("rushes_triton_model_ready", model="unit_model") == 1.0
    with pytest.raises(Unavailable), time_model_call("unit_model", unavailable=(Unavailable,)):
        raise Unavailable
    assert sample("rushes_triton_model_ready", model="unit_model") == 0.0
    with pytest.raises(KeyError), time_model_call("unit_model", unavailable=(Unavailable,)):
        raise KeyError("the input's fault")
    assert sample("rushes_triton_model_ready", model="unit_model") == 0.0  # left alone
    count = sample(
        "rushes_dependency_call_duration_seconds_count", dependency="triton", operation="unit_model"
    )
    assert count == 3.0
