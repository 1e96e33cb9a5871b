"""Prometheus metrics shared by every service and the /metrics endpoint.

Metrics are declared once, at module level, in `rushes_metrics.definitions`; services import them
from here and never declare a second copy (prometheus_client refuses duplicate names anyway).
"""

from rushes_metrics.definitions import (
    CONSUMER_PENDING,
    CONSUMER_REDELIVERED,
    DEPENDENCY_CALL_DURATION,
    DLQ_TOTAL,
    DURATION_BUCKETS_S,
    FOOTAGE_SECONDS_PROCESSED,
    GRPC_HANDLED,
    GRPC_LATENCY,
    IN_FLIGHT,
    PROCESSED_TOTAL,
    STAGE_DURATION,
    STAGE_RESULTS,
    init_dependency_labels,
    init_stage_labels,
    time_dependency_call,
)
from rushes_metrics.server import start_metrics_server, stop_metrics_servers

__all__ = [
    "CONSUMER_PENDING",
    "CONSUMER_REDELIVERED",
    "DEPENDENCY_CALL_DURATION",
    "DLQ_TOTAL",
    "DURATION_BUCKETS_S",
    "FOOTAGE_SECONDS_PROCESSED",
    "GRPC_HANDLED",
    "GRPC_LATENCY",
    "IN_FLIGHT",
    "PROCESSED_TOTAL",
    "STAGE_DURATION",
    "STAGE_RESULTS",
    "init_dependency_labels",
    "init_stage_labels",
    "start_metrics_server",
    "stop_metrics_servers",
    "time_dependency_call",
]
