"""Every shared metric, declared once with its unit in the name and a bounded label set.

Label values are bounded by design: `stage` is one of a handful of pipeline stages, `result` one of
STAGE_RESULTS, `dependency`/`operation` a short fixed list per service. Never put asset ids, object
keys or error messages in labels: each distinct value is a new time series kept forever.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

# Stage jobs range from a 50 ms catalog upsert to an hour-long transcription or upscale, so the
# default buckets (which stop at 10 s) would put every real job in +Inf.
DURATION_BUCKETS_S: Final[tuple[float, ...]] = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1200.0,
    1800.0,
    3600.0,
)

# Calls to the object store, Triton and gRPC peers: milliseconds to a few minutes (large uploads).
CALL_BUCKETS_S: Final[tuple[float, ...]] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
)

# ok: handled and acked. retried: TransientError, redelivery scheduled. failed: an unexpected
# exception (a bug or unclassified failure), redelivery scheduled. rejected: the service refused the
# input as the input's fault (recorded by services). dead_lettered: terminated and sent to the DLQ.
STAGE_RESULTS: Final[tuple[str, ...]] = ("ok", "failed", "rejected", "retried", "dead_lettered")

PROCESSED_TOTAL = Counter(
    "rushes_stage_processed_total",
    "Messages a stage finished handling, by outcome.",
    ["stage", "result"],
)
STAGE_DURATION = Histogram(
    "rushes_stage_duration_seconds",
    "Wall-clock time of one handler invocation.",
    ["stage"],
    buckets=DURATION_BUCKETS_S,
)
IN_FLIGHT = Gauge(
    "rushes_stage_in_flight",
    "Messages this process is handling right now.",
    ["stage"],
)
CONSUMER_PENDING = Gauge(
    "rushes_consumer_pending_messages",
    "Messages in the stream not yet delivered to the stage's durable consumer (num_pending).",
    ["stage"],
)
CONSUMER_REDELIVERED = Counter(
    "rushes_consumer_redeliveries_total",
    "Deliveries that were not the first for their message.",
    ["stage"],
)
DLQ_TOTAL = Counter(
    "rushes_dlq_messages_total",
    "Messages a stage terminated and announced on rushes.v1.dlq.<stage>.",
    ["stage"],
)
FOOTAGE_SECONDS_PROCESSED = Counter(
    "rushes_footage_seconds_processed_total",
    "Seconds of footage a stage finished processing (throughput in footage time).",
    ["stage"],
)
DEPENDENCY_CALL_DURATION = Histogram(
    "rushes_dependency_call_duration_seconds",
    "Latency of calls to external dependencies (object store, Triton, ...).",
    ["dependency", "operation"],
    buckets=CALL_BUCKETS_S,
)
GRPC_HANDLED = Counter(
    "rushes_grpc_requests_total",
    "gRPC requests this server completed, by status code.",
    ["service", "method", "code"],
)
GRPC_LATENCY = Histogram(
    "rushes_grpc_request_duration_seconds",
    "Server-side latency of gRPC requests.",
    ["service", "method"],
    buckets=CALL_BUCKETS_S,
)

MODEL_READY = Gauge(
    "rushes_triton_model_ready",
    "1 when this process's last call to a Triton model succeeded, 0 when the model was unavailable.",
    ["model"],
)

_LABEL_VALUE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


def check_label(kind: str, value: str) -> str:
    """`value` when it is a short lowercase name fit for a label; ValueError naming `kind` otherwise."""
    if not isinstance(value, str) or not _LABEL_VALUE.match(value):
        raise ValueError(
            f"{kind} label {value!r} is not a short lowercase name ([a-z0-9_.-], at most 63 characters)"
        )
    return value


def init_stage_labels(stage: str) -> None:
    """Create every series of `stage` at zero so dashboards and rate() see them before the first event."""
    check_label("stage", stage)
    for result in STAGE_RESULTS:
        PROCESSED_TOTAL.labels(stage=stage, result=result)
    STAGE_DURATION.labels(stage=stage)
    IN_FLIGHT.labels(stage=stage)
    CONSUMER_PENDING.labels(stage=stage)
    CONSUMER_REDELIVERED.labels(stage=stage)
    DLQ_TOTAL.labels(stage=stage)
    FOOTAGE_SECONDS_PROCESSED.labels(stage=stage)


def init_dependency_labels(dependency: str, operations: Iterable[str]) -> None:
    """Pre-create the latency series of each (dependency, operation) a service will call."""
    check_label("dependency", dependency)
    for operation in operations:
        DEPENDENCY_CALL_DURATION.labels(dependency=dependency, operation=check_label("operation", operation))


@contextmanager
def time_dependency_call(dependency: str, operation: str) -> Iterator[None]:
    """Observe the duration of the enclosed call, whether it succeeds or raises."""
    histogram = DEPENDENCY_CALL_DURATION.labels(
        dependency=check_label("dependency", dependency), operation=check_label("operation", operation)
    )
    started = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - started)


@contextmanager
def time_model_call(model: str, *, unavailable: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Observe one Triton call's latency (dependency="triton", operation=model) and the model's readiness.

    `unavailable` names the exceptions that mean "the model cannot serve" (rushes_inference's
    ModelUnavailable): they set rushes_triton_model_ready{model} to 0; a successful call sets it to 1.
    Other exceptions (the input's fault) leave readiness alone. rushes_metrics imports no Triton code.
    """
    ready = MODEL_READY.labels(model=check_label("model", model))
    with time_dependency_call("triton", model):
        try:
            yield
        except unavailable:
            ready.set(0)
            raise
    ready.set(1)
