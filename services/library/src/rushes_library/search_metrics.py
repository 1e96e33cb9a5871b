"""Search usage on /metrics (declared once; label values bounded and created up front).

Review verdicts are counted by rushes_metrics.record_review_verdict (the drift dashboards read them)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SEARCH_KINDS = ("boolean", "hybrid", "keyword", "similar")

SEARCH_QUERIES_TOTAL = Counter(
    "rushes_search_queries_total", "Search queries answered, by kind and outcome.", ["kind", "result"]
)
SEARCH_ZERO_RESULTS_TOTAL = Counter(
    "rushes_search_zero_results_total",
    "Search queries that found nothing (zero-result rate = this / queries).",
    ["kind"],
)
SEARCH_LATENCY = Histogram(
    "rushes_search_duration_seconds",
    "Search latency inside the library (parse, SQL, embedding of the query).",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
EMBEDDED_TOTAL = Counter("rushes_search_embedded_shots_total", "Search rows given a new embedding.")

for _kind in SEARCH_KINDS:
    SEARCH_ZERO_RESULTS_TOTAL.labels(kind=_kind)
    SEARCH_LATENCY.labels(kind=_kind)
    for _result in ("ok", "invalid", "unavailable"):
        SEARCH_QUERIES_TOTAL.labels(kind=_kind, result=_result)
