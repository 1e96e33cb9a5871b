"""What the ASR stage exports for drift and quality dashboards (declared once, bounded labels)."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

from rushes_asr.subtitles import RULES

TRANSCRIPT_CONFIDENCE = Histogram(
    "rushes_asr_transcript_confidence",
    "Mean word probability of each transcript (drift shows as a shifting distribution).",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
)
GUARD_FLAGS = Counter(
    "rushes_asr_hallucination_flags_total", "Transcripts sent to review by a hallucination guard.", ["flag"]
)
RULE_VIOLATIONS = Counter(
    "rushes_subtitle_rule_violations_total", "Subtitle style-rule violations in produced files.", ["rule"]
)
TIMING_DRIFT = Histogram(
    "rushes_subtitle_timing_drift_seconds",
    "Per-cue timing drift against the word alignment.",
    buckets=(0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1.0),
)
SUBTITLES_FOR_REVIEW = Counter(
    "rushes_subtitles_review_total", "Subtitle files that failed their profile's targets (sent to review)."
)

for _rule in RULES:
    RULE_VIOLATIONS.labels(rule=_rule)
for _flag in ("repetition_loop", "text_over_silence"):
    GUARD_FLAGS.labels(flag=_flag)


def record(confidence: float, flags: list[str], qc: dict[str, Any], needs_review: bool) -> None:
    TRANSCRIPT_CONFIDENCE.observe(confidence)
    for flag in flags:
        GUARD_FLAGS.labels(flag=flag).inc()
    for rule, summary in (qc.get("rules") or {}).items():
        if rule in RULES and summary.get("count"):
            RULE_VIOLATIONS.labels(rule=rule).inc(summary["count"])
    for cue in ((qc.get("timing_drift") or {}).get("per_cue")) or []:
        TIMING_DRIFT.observe(float(cue.get("drift_s", 0.0)))
    if needs_review:
        SUBTITLES_FOR_REVIEW.inc()
