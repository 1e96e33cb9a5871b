from __future__ import annotations

import urllib.request

import pytest
from prometheus_client import REGISTRY
from rushes_metrics import (
    DEPENDENCY_CALL_DURATION,
    PROCESSED_TOTAL,
    STAGE_DURATION,
    init_dependency_labels,
    init_stage_labels,
    start_metrics_server,
    stop_metrics_servers,
    time_dependency_call,
)


def test_init_stage_labels_creates_zero_series_for_every_result() -> None:
    init_stage_labels("unit-stage")
    for result in ("ok", "failed", "rejected", "retried", "dead_lettered"):
        value = REGISTRY.get_sample_value(
            "rushes_stage_processed_total", {"stage": "unit-stage", "result": result}
        )
        assert value == 0.0, result
    for name in (
        "rushes_stage_in_flight",
        "rushes_consumer_pending_messages",
        "rushes_consumer_redeliveries_total",
        "rushes_dlq_messages_total",
        "rushes_footage_seconds_processed_total",
    ):
        assert REGISTRY.get_sample_value(name, {"stage": "unit-stage"}) == 0.0, name


def test_duration_buckets_cover_minutes_long_jobs() -> None:
    STAGE_DURATION.labels(stage="unit-buckets").observe(1800.0)
    below_hour = REGISTRY.get_sample_value(
        "rushes_stage_duration_seconds_bucket", {"stage": "unit-buckets", "le": "3600.0"}
    )
    below_ten_min = REGISTRY.get_sample_value(
        "rushes_stage_duration_seconds_bucket", {"stage": "unit-buckets", "le": "600.0"}
    )
    smallest = REGISTRY.get_sample_value(
        "rushes_stage_duration_seconds_bucket", {"stage": "unit-buckets", "le": "0.05"}
    )
    assert (below_hour, below_ten_min, smallest) == (1.0, 0.0, 0.0)


@pytest.mark.parametrize("bad", ["", "Ingest", "has space", "x" * 64, "a/b"])
def test_unbounded_looking_label_values_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="stage label"):
        init_stage_labels(bad)


def test_time_dependency_call_observes_even_when_the_call_raises() -> None:
    init_dependency_labels("unit-store", ["put"])
    labels = {"dependency": "unit-store", "operation": "put"}
    assert REGISTRY.get_sample_value("rushes_dependency_call_duration_seconds_count", labels) == 0.0
    with pytest.raises(RuntimeError), time_dependency_call("unit-store", "put"):
        raise RuntimeError("boom")
    with time_dependency_call("unit-store", "put"):
        pass
    assert REGISTRY.get_sample_value("rushes_dependency_call_duration_seconds_count", labels) == 2.0
    assert DEPENDENCY_CALL_DURATION is not None


def test_metrics_server_binds_a_free_port_and_serves_process_and_rushes_metrics() -> None:
    PROCESSED_TOTAL.labels(stage="unit-http", result="ok").inc(3)
    port = start_metrics_server("127.0.0.1", 0)
    try:
        assert port > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            body = response.read().decode()
        assert 'rushes_stage_processed_total{result="ok",stage="unit-http"} 3.0' in body
        assert "process_resident_memory_bytes" in body
    finally:
        stop_metrics_servers()


def test_metrics_server_on_a_taken_port_names_the_address() -> None:
    port = start_metrics_server("127.0.0.1", 0)
    try:
        with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
            start_metrics_server("127.0.0.1", port)
    finally:
        stop_metrics_servers()


def test_metrics_port_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="70000"):
        start_metrics_server("127.0.0.1", 70000)
