"""What the picks stage exports (declared once, bounded labels): score drift and review load."""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from rushes.events.v1 import events_pb2

TAKE_SCORE = Histogram(
    "rushes_picks_take_score",
    "Score of every take scored (a shifting distribution is drift in footage or in the scorer).",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
)
TAKES_TOTAL = Counter("rushes_picks_takes_total", "Takes scored, by verdict.", ["verdict"])
TAKES_FOR_REVIEW = Counter("rushes_picks_takes_review_total", "Takes whose score went to the review queue.")
CUTS_TOTAL = Counter("rushes_picks_cuts_total", "Cuts assembled, by draft-policy status.", ["status"])

for _verdict in ("usable", "unusable"):
    TAKES_TOTAL.labels(verdict=_verdict)
for _status in ("draft", "review", "empty"):
    CUTS_TOTAL.labels(status=_status)


def record_picks(picked: events_pb2.AssetPicked) -> None:
    for take in picked.takes:
        fields = take.score.value.struct_value.fields
        TAKE_SCORE.observe(fields["score"].number_value)
        TAKES_TOTAL.labels(verdict=fields["verdict"].string_value or "usable").inc()
        if take.score.needs_review:
            TAKES_FOR_REVIEW.inc()
