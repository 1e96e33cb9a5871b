"""Metrics against acceptance criteria: a verdict per shot (pass / review / fail) with its reasons.

Anything past a review threshold routes the shot to the review queue (needs_review) rather than a
silent pass or fail: a person confirms what QC saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rushes_qc.checks import METRICS
from rushes_qc.presets import ResolvedRules

Verdict = Literal["pass", "review", "fail"]
_RANK: dict[str, int] = {"pass": 0, "review": 1, "fail": 2}


@dataclass(frozen=True)
class CheckResult:
    metric: str
    value: float
    threshold: float
    direction: str
    verdict: Verdict
    worst_frame: int = -1
    # Both bounds of the acceptance criterion (the QC log shows them with every check).
    review_threshold: float = 0.0
    fail_threshold: float = 0.0

    @property
    def reason(self) -> str:
        sign = ">" if self.direction == "above" else "<"
        return f"{self.metric}={self.value:.3g}{sign}{self.threshold:g} ({self.verdict})"


@dataclass
class ShotVerdict:
    verdict: Verdict
    confidence: float
    failures: list[CheckResult] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    # Every check made, passed ones included (threshold: the one crossed, else the review one).
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        return self.verdict != "pass"


def worst(verdicts: list[str]) -> Verdict:
    """The worst of several verdicts ("pass" for none)."""
    best: Verdict = "pass"
    for verdict in verdicts:
        if _RANK[verdict] > _RANK[best]:
            best = verdict  # type: ignore[assignment]
    return best


def judge(
    metrics: dict[str, float], rules: ResolvedRules, worst_frames: dict[str, int] | None = None
) -> ShotVerdict:
    """Every threshold of `rules` whose metric was measured. Confidence: how clearly the deciding
    metric sits inside its band (1.0 far from any threshold, 0.5 right on one)."""
    worst_frames = worst_frames or {}
    failures: list[CheckResult] = []
    checks: list[CheckResult] = []
    pass_margins: list[float] = []
    fail_margins: list[float] = []
    for name, threshold in rules.thresholds.items():
        value = metrics.get(name)
        if value is None:
            continue
        bad = METRICS[name].bad
        past_fail = value > threshold.fail if bad == "above" else value < threshold.fail
        past_review = value > threshold.review if bad == "above" else value < threshold.review
        span = abs(threshold.fail - threshold.review) or abs(threshold.review) * 0.25 or 1.0
        crossed = threshold.fail if past_fail else threshold.review
        verdict: Verdict = "fail" if past_fail else "review" if past_review else "pass"
        check = CheckResult(name, value, crossed, bad, verdict, worst_frames.get(name, -1),
                            threshold.review, threshold.fail)  # fmt: skip
        checks.append(check)
        if verdict != "pass":
            failures.append(check)
            fail_margins.append(abs(value - crossed) / span)
        else:
            pass_margins.append(abs(value - threshold.review) / span)
    verdict = worst([f.verdict for f in failures])
    failures.sort(key=lambda f: (-_RANK[f.verdict], f.metric))
    # A failing shot is as sure as its clearest failure; a passing one as its closest call.
    margin = (
        (max(fail_margins) if fail_margins else min(pass_margins)) if fail_margins or pass_margins else 1.0
    )
    confidence = round(min(1.0, 0.5 + 0.5 * min(margin, 1.0)), 3)
    return ShotVerdict(
        verdict=verdict,
        confidence=confidence,
        failures=failures,
        reasons=[f.reason for f in failures],
        checks=checks,
    )
