"""The PromQL metric-name extractor the coverage test relies on (pure, no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ops_promql import alert_expressions, dashboard_expressions, metric_names

CHART = Path(__file__).resolve().parents[2] / "charts" / "rushes"


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('rate(rushes_stage_processed_total{result=~"failed|x"}[5m])', {"rushes_stage_processed_total"}),
        (
            "histogram_quantile(0.95, sum by (le, stage) (rate(rushes_stage_duration_seconds_bucket[5m])))",
            {"rushes_stage_duration_seconds_bucket"},
        ),
        (
            "sum(rate(a_total[1h])) by (stage) / ignoring(value) group_left sum(b_total)",
            {"a_total", "b_total"},
        ),
        ("max by (model) (x) > 0.25 and on (model) y offset 5m", {"x", "y"}),
        ("clamp_min(sum(rate(q_us[2m])), 1e-9) / 1000", {"q_us"}),
        ('count({__name__="only_labels"})', set()),
        ('z{job="by (le) and offset rate("}', {"z"}),
        ("sum(rate(a[5m:1m]))", {"a"}),
    ],
)
def test_metric_names_are_the_selectors_only(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_unbalanced_expressions_are_refused() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        metric_names("sum(rate(x[5m])")


def test_every_shipped_expression_names_at_least_one_metric() -> None:
    expressions = {
        **alert_expressions(CHART / "alerts" / "rushes.rules.yaml"),
        **dashboard_expressions(CHART / "dashboards"),
    }
    assert len(expressions) > 20
    for where, expr in expressions.items():
        assert metric_names(expr), where
