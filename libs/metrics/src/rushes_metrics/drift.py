"""Model drift: confidence histograms, categorical output distributions and their stability index.

A model drifts when what it outputs today no longer looks like what it output when we trusted it:
a camera department switching to a new log profile moves the exposure verdicts, a new show moves the
shot-type mix. The population stability index (PSI) turns "looks like" into one number per output:

    PSI = sum over categories of (actual_share - expected_share) * ln(actual_share / expected_share)

Rule of thumb used by the alerts: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 a shift worth a look.

`population_stability_index` is pure (unit-tested, no Prometheus). `DistributionRecorder` is the
small stateful part a service keeps per (model, output): it counts every decision, observes its
confidence and, once it has a baseline and a full enough recent window, publishes the PSI gauge.

The baseline is either given (shares measured on a validation set: the right thing in production)
or the first `baseline_size` decisions this process saw. A per-process baseline restarts with the
pod, so it only catches drift within a pod's lifetime; configure a fixed baseline for anything else.
"""

from __future__ import annotations

import math
import threading
from collections import Counter as CountBag
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

from rushes_metrics.definitions import check_label

# Shares of zero make ln() blow up; a category never seen on one side counts as this share instead.
# Small enough that a genuinely new category still pushes PSI well over the alert threshold.
PSI_EPSILON: Final[float] = 1e-4
OTHER: Final[str] = "other"
"""The category every value outside a recorder's declared list is counted as (labels stay bounded)."""

CONFIDENCE_BUCKETS: Final[tuple[float, ...]] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)

MODEL_CONFIDENCE = Histogram(
    "rushes_model_confidence_ratio",
    "Confidence in [0, 1] of each AI decision, per model and output field.",
    ["model", "output"],
    buckets=CONFIDENCE_BUCKETS,
)
MODEL_OUTPUTS = Counter(
    "rushes_model_outputs_total",
    "AI decisions per model, output field and (bounded) categorical value.",
    ["model", "output", "value"],
)
MODEL_NEEDS_REVIEW = Counter(
    "rushes_model_needs_review_total",
    "AI decisions below their review threshold (what lands in the human review queue).",
    ["model", "output"],
)
MODEL_OUTPUT_PSI = Gauge(
    "rushes_model_output_psi",
    "Population stability index of the recent window of an output's categories against its baseline.",
    ["model", "output"],
)

REVIEW_VERDICTS: Final[tuple[str, ...]] = ("accepted", "rejected", "corrected")
REVIEW_DECISIONS = Counter(
    "rushes_review_verdicts_total",
    "Reviewer verdicts on AI decisions; rejected + corrected over all is the override rate.",
    ["output", "verdict"],
)

QC_RESULTS: Final[tuple[str, ...]] = ("pass", "fail")
QC_CHECKS = Counter(
    "rushes_qc_checks_total",
    "QC verdicts on enhancement fixes, per fix type; fail over all is the QC failure rate.",
    ["fix", "result"],
)


def population_stability_index(
    expected: Mapping[str, float], actual: Mapping[str, float], *, epsilon: float = PSI_EPSILON
) -> float:
    """PSI of `actual` against `expected`; both map category -> count (or share), normalised here.

    Categories missing on one side count as `epsilon` of that side. Raises ValueError for negative
    or non-finite counts, an empty side (nothing to compare), or an epsilon outside (0, 0.01].
    """
    if not 0 < epsilon <= 0.01:
        raise ValueError(f"epsilon {epsilon!r} must be in (0, 0.01]")
    expected_shares = _shares("expected", expected)
    actual_shares = _shares("actual", actual)
    psi = 0.0
    for category in expected_shares.keys() | actual_shares.keys():
        e = max(expected_shares.get(category, 0.0), epsilon)
        a = max(actual_shares.get(category, 0.0), epsilon)
        psi += (a - e) * math.log(a / e)
    return psi


def _shares(side: str, counts: Mapping[str, float]) -> dict[str, float]:
    for category, count in counts.items():
        if not isinstance(count, int | float) or isinstance(count, bool) or not math.isfinite(count):
            raise ValueError(f"{side} count of {category!r} is {count!r}, not a finite number")
        if count < 0:
            raise ValueError(f"{side} count of {category!r} is negative ({count})")
    total = float(sum(counts.values()))
    if total <= 0:
        raise ValueError(f"{side} distribution is empty: no counts to compare")
    return {category: count / total for category, count in counts.items()}


class DistributionRecorder:
    """Counts one categorical output of one model and publishes its PSI against a baseline.

    Thread-safe (services record from worker threads). Values outside `categories` are counted as
    "other" so a model that starts inventing labels shows up as drift instead of new time series.
    """

    def __init__(
        self,
        model: str,
        output: str,
        categories: Sequence[str],
        *,
        baseline: Mapping[str, float] | None = None,
        baseline_size: int = 200,
        window_size: int = 200,
        min_window: int = 50,
    ) -> None:
        self.model = check_label("model", model)
        self.output = check_label("output", output)
        if not categories:
            raise ValueError(f"{model}/{output}: a recorder needs at least one category")
        self.categories: tuple[str, ...] = tuple(check_label("value", c) for c in categories)
        if OTHER in self.categories:
            raise ValueError(f"{model}/{output}: {OTHER!r} is reserved for values outside the list")
        if not 1 <= min_window <= window_size:
            raise ValueError(
                f"{model}/{output}: min_window {min_window} must be in 1..window_size ({window_size})"
            )
        if baseline_size < 1:
            raise ValueError(f"{model}/{output}: baseline_size {baseline_size} must be at least 1")
        known = {*self.categories, OTHER}
        if baseline is not None:
            unknown = sorted(set(baseline) - known)
            if unknown:
                raise ValueError(f"{model}/{output}: baseline names unknown categories {unknown}")
            _shares("baseline", baseline)  # validates counts now, not at the first observation
        self._baseline: dict[str, float] | None = dict(baseline) if baseline is not None else None
        self._learning: CountBag[str] = CountBag()
        self._baseline_size = baseline_size
        self._window: deque[str] = deque(maxlen=window_size)
        self._min_window = min_window
        self._lock = threading.Lock()
        self._psi: float | None = None
        for category in (*self.categories, OTHER):
            MODEL_OUTPUTS.labels(model=self.model, output=self.output, value=category)
        MODEL_CONFIDENCE.labels(model=self.model, output=self.output)
        MODEL_NEEDS_REVIEW.labels(model=self.model, output=self.output)
        MODEL_OUTPUT_PSI.labels(model=self.model, output=self.output)

    @property
    def psi(self) -> float | None:
        """The last published index (None until baseline and window are both ready)."""
        return self._psi

    def bucket(self, value: object) -> str:
        return value if isinstance(value, str) and value in self.categories else OTHER

    def record(self, value: object, confidence: float, *, needs_review: bool = False) -> str:
        """Count one decision; returns the category it was counted as."""
        if not isinstance(confidence, int | float) or not 0.0 <= confidence <= 1.0:
            raise ValueError(f"{self.model}/{self.output}: confidence {confidence!r} is outside [0, 1]")
        category = self.bucket(value)
        MODEL_OUTPUTS.labels(model=self.model, output=self.output, value=category).inc()
        MODEL_CONFIDENCE.labels(model=self.model, output=self.output).observe(confidence)
        if needs_review:
            MODEL_NEEDS_REVIEW.labels(model=self.model, output=self.output).inc()
        with self._lock:
            if self._baseline is None:
                self._learning[category] += 1
                if sum(self._learning.values()) >= self._baseline_size:
                    self._baseline = dict(self._learning)
                return category
            self._window.append(category)
            if len(self._window) >= self._min_window:
                self._psi = population_stability_index(self._baseline, CountBag(self._window))
                MODEL_OUTPUT_PSI.labels(model=self.model, output=self.output).set(self._psi)
        return category


def record_review_verdict(output: str, verdict: str) -> None:
    """Count one reviewer verdict on an AI decision (library service, on each review)."""
    if verdict not in REVIEW_VERDICTS:
        raise ValueError(f"review verdict {verdict!r} is not one of {', '.join(REVIEW_VERDICTS)}")
    REVIEW_DECISIONS.labels(output=check_label("output", output), verdict=verdict).inc()


def init_review_labels(outputs: Iterable[str]) -> None:
    for output in outputs:
        for verdict in REVIEW_VERDICTS:
            REVIEW_DECISIONS.labels(output=check_label("output", output), verdict=verdict)


def record_qc_check(fix: str, passed: bool) -> None:
    """Count one QC verdict on a fix (qc service): fix is the enhancement, e.g. "stabilize"."""
    QC_CHECKS.labels(fix=check_label("fix", fix), result="pass" if passed else "fail").inc()


def init_qc_labels(fixes: Iterable[str]) -> None:
    for fix in fixes:
        for result in QC_RESULTS:
            QC_CHECKS.labels(fix=check_label("fix", fix), result=result)
