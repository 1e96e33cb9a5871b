"""What the QC stage exports: verdicts per fix and the checks that fail (declared once, bounded labels)."""

from __future__ import annotations

from prometheus_client import Counter
from rushes.events.v1 import events_pb2
from rushes_metrics import init_qc_labels, record_qc_check

from rushes_qc.checks import FIXES, METRICS

VERDICTS = Counter(
    "rushes_qc_shot_verdicts_total", "Shot verdicts of renditions, by fix and verdict.", ["fix", "verdict"]
)
FAILED_CHECKS = Counter(
    "rushes_qc_failed_checks_total", "Checks past their review threshold, by metric.", ["metric"]
)
UNCHECKABLE = Counter(
    "rushes_qc_unchecked_renditions_total",
    "Renditions that could not be checked (missing, mismatched, unreadable).",
)

for _fix in FIXES:
    for _verdict in ("pass", "review", "fail"):
        VERDICTS.labels(fix=_fix, verdict=_verdict)
for _metric in METRICS:
    FAILED_CHECKS.labels(metric=_metric)
# The shared QC failure-rate series (rushes_qc_checks_total, dashboards and alerts read it).
init_qc_labels(FIXES)


def record(event: events_pb2.AssetQc) -> None:
    """Count every verdict of `event`: one shared QC check per shot (a rendition that could not be
    checked counts as one failed check), plus the qc service's own breakdowns."""
    for rendition in event.renditions:
        fix = rendition.fix if rendition.fix in FIXES else "generic"
        if rendition.error:
            UNCHECKABLE.inc()
            record_qc_check(fix, passed=False)
        for shot in rendition.shots:
            VERDICTS.labels(fix=fix, verdict=shot.verdict).inc()
            record_qc_check(fix, passed=shot.verdict == "pass")
            for failure in shot.failures:
                if failure.metric in METRICS:
                    FAILED_CHECKS.labels(metric=failure.metric).inc()
