"""Writes the Grafana dashboards (dashboards/*.json) of the Rushes chart.

The JSON files are committed (the chart ships them as sidecar ConfigMaps); this script is their
source, so panels stay consistent (datasource variable, units, layout). tests/ops fails when the
committed files differ from what it writes: edit here, run it, commit both.

    .venv/bin/python charts/rushes/dashboards/generate.py
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


@dataclass(frozen=True)
class Panel:
    title: str
    targets: list[tuple[str, str]]  # (PromQL, legend)
    unit: str = "short"
    description: str = ""
    kind: str = "timeseries"
    width: int = 12
    extra: dict[str, Any] = field(default_factory=dict)


def _panel(panel_id: int, panel: Panel, x: int, y: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {
            "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]}
        },
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(panel.targets)
        ],
    }
    body.update(panel.extra)
    return body


def dashboard(uid: str, title: str, description: str, panels: list[Panel]) -> dict[str, Any]:
    laid_out: list[dict[str, Any]] = []
    x = y = 0
    for panel_id, panel in enumerate(panels, start=1):
        if x + panel.width > 24:
            x, y = 0, y + 8
        laid_out.append(_panel(panel_id, panel, x, y))
        x += panel.width
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["rushes"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "annotations": {"list": []},
        "panels": laid_out,
    }


def p95(metric: str, by: str, matchers: str = "") -> str:
    """95th percentile of a histogram over 5 minutes, per `by` labels; `matchers` like 'job="x"'."""
    selector = f"{metric}_bucket{{{matchers}}}" if matchers else f"{metric}_bucket"
    return f"histogram_quantile(0.95, sum by (le, {by}) (rate({selector}[5m])))"


PIPELINE = dashboard(
    "rushes-pipeline",
    "Rushes / Pipeline throughput and latency",
    "Per stage: messages handled, footage processed, failures, job duration and work in flight.",
    [
        Panel(
            "Messages handled per second, by stage and outcome",
            [("sum by (stage, result) (rate(rushes_stage_processed_total[5m]))", "{{stage}} {{result}}")],
            unit="ops",
        ),
        Panel(
            "Footage processed (footage seconds per wall-clock second)",
            [("sum by (stage) (rate(rushes_footage_seconds_processed_total[5m]))", "{{stage}}")],
            unit="short",
            description="Above 1: the stage keeps up with real time. Capacity planning uses this.",
        ),
        Panel(
            "Failure ratio by stage",
            [
                (
                    'sum by (stage) (rate(rushes_stage_processed_total{result=~"failed|dead_lettered"}[10m]))'
                    " / sum by (stage) (rate(rushes_stage_processed_total[10m]))",
                    "{{stage}}",
                )
            ],
            unit="percentunit",
        ),
        Panel(
            "Rejected input per second (the file's fault)",
            [('sum by (stage) (rate(rushes_stage_processed_total{result="rejected"}[10m]))', "{{stage}}")],
            unit="ops",
        ),
        Panel(
            "Job duration p95 by stage",
            [(p95("rushes_stage_duration_seconds", "stage"), "{{stage}} p95")],
            unit="s",
        ),
        Panel(
            "Jobs in flight",
            [("sum by (stage) (rushes_stage_in_flight)", "{{stage}}")],
            unit="short",
        ),
    ],
)

QUEUES = dashboard(
    "rushes-queues",
    "Rushes / JetStream queues",
    "Consumer backlog, redeliveries and dead letters per stage.",
    [
        Panel(
            "Backlog (messages not yet delivered to the stage)",
            [("max by (stage) (rushes_consumer_pending_messages)", "{{stage}}")],
            description="Every replica reports the shared durable consumer's num_pending: max, not sum.",
        ),
        Panel(
            "Redeliveries per second",
            [("sum by (stage) (rate(rushes_consumer_redeliveries_total[5m]))", "{{stage}}")],
            unit="ops",
        ),
        Panel(
            "Dead-lettered messages (last hour)",
            [("sum by (stage) (increase(rushes_dlq_messages_total[1h]))", "{{stage}}")],
        ),
        Panel(
            "Retries scheduled per second",
            [('sum by (stage) (rate(rushes_stage_processed_total{result="retried"}[5m]))', "{{stage}}")],
            unit="ops",
        ),
    ],
)

DEPENDENCIES = dashboard(
    "rushes-dependencies",
    "Rushes / Dependencies and APIs",
    "Object store and Triton latency as the services see them, Triton's own queue, and gRPC APIs.",
    [
        Panel(
            "Object store call latency p95",
            [
                (
                    p95("rushes_dependency_call_duration_seconds", "operation", 'dependency="s3"'),
                    "{{operation}}",
                )
            ],
            unit="s",
        ),
        Panel(
            "Triton call latency p95 (from the services)",
            [
                (
                    p95("rushes_dependency_call_duration_seconds", "operation", 'dependency="triton"'),
                    "{{operation}}",
                )
            ],
            unit="s",
        ),
        Panel(
            "Triton queue time per request",
            [
                (
                    "sum by (model) (rate(nv_inference_queue_duration_us[5m])) / 1000"
                    " / clamp_min(sum by (model) (rate(nv_inference_request_success[5m])), 1e-9)",
                    "{{model}}",
                )
            ],
            unit="ms",
            description="What Triton's KEDA trigger scales on: requests waiting for a model instance.",
        ),
        Panel(
            "Triton inferences per second and failures",
            [
                ("sum by (model) (rate(nv_inference_request_success[5m]))", "{{model}} ok"),
                ("sum by (model) (rate(nv_inference_request_failure[5m]))", "{{model}} failed"),
            ],
            unit="ops",
        ),
        Panel(
            "Triton models ready (as the callers see them)",
            [("min by (model) (rushes_triton_model_ready)", "{{model}}")],
            kind="stat",
        ),
        Panel(
            "gRPC requests per second by method and code",
            [
                (
                    "sum by (service, method, code) (rate(rushes_grpc_requests_total[5m]))",
                    "{{method}} {{code}}",
                )
            ],
            unit="ops",
        ),
        Panel(
            "gRPC latency p95 by method",
            [(p95("rushes_grpc_request_duration_seconds", "service, method"), "{{method}}")],
            unit="s",
        ),
    ],
)

DRIFT = dashboard(
    "rushes-drift",
    "Rushes / Model drift",
    "Output distributions against their baseline (PSI), confidences, and the ASR quality signals.",
    [
        Panel(
            "Population stability index by model output",
            [("max by (model, output) (rushes_model_output_psi)", "{{model}} {{output}}")],
            description="< 0.1 stable; 0.1-0.25 moderate shift; > 0.25 alerts (RushesModelDrift).",
        ),
        Panel(
            "Share of each value, by output (last 6 h)",
            [
                (
                    "sum by (output, value) (increase(rushes_model_outputs_total[6h]))"
                    " / ignoring(value) group_left sum by (output) (increase(rushes_model_outputs_total[6h]))",
                    "{{output}}={{value}}",
                )
            ],
            unit="percentunit",
        ),
        Panel(
            "Median confidence by model output",
            [
                (
                    "histogram_quantile(0.5, sum by (le, model, output) (rate(rushes_model_confidence_ratio_bucket[1h])))",
                    "{{model}} {{output}}",
                )
            ],
            unit="percentunit",
        ),
        Panel(
            "Transcript confidence (median) and hallucination guards",
            [
                (
                    "histogram_quantile(0.5, sum by (le) (rate(rushes_asr_transcript_confidence_bucket[1h])))",
                    "median confidence",
                ),
                ("sum by (flag) (rate(rushes_asr_hallucination_flags_total[1h]))", "{{flag}}"),
            ],
        ),
        Panel(
            "Subtitle rule violations per hour",
            [("sum by (rule) (increase(rushes_subtitle_rule_violations_total[1h]))", "{{rule}}")],
        ),
    ],
)

REVIEW = dashboard(
    "rushes-review",
    "Rushes / Review load and overrides",
    "What lands in the human review queue, how often reviewers overturn the models, and QC of fixes.",
    [
        Panel(
            "Decisions sent to review per hour, by output",
            [("sum by (output) (increase(rushes_model_needs_review_total[1h]))", "{{output}}")],
        ),
        Panel(
            "Subtitle files sent to review per hour",
            [("sum(increase(rushes_subtitles_review_total[1h]))", "subtitles")],
        ),
        Panel(
            "Reviewer override rate (rejected + corrected per AI decision)",
            [
                (
                    'sum(rate(rushes_review_verdicts_total{verdict=~"rejected|corrected"}[1h]))'
                    " / sum(rate(rushes_model_outputs_total[1h]))",
                    "override rate",
                )
            ],
            unit="percentunit",
        ),
        Panel(
            "Reviewer verdicts per hour",
            [
                (
                    "sum by (output, verdict) (increase(rushes_review_verdicts_total[1h]))",
                    "{{output}} {{verdict}}",
                )
            ],
        ),
        Panel(
            "QC failure rate per fix type",
            [
                (
                    'sum by (fix) (rate(rushes_qc_checks_total{result="fail"}[1h]))'
                    " / sum by (fix) (rate(rushes_qc_checks_total[1h]))",
                    "{{fix}}",
                )
            ],
            unit="percentunit",
        ),
    ],
)

DASHBOARDS = {
    "pipeline": PIPELINE,
    "queues": QUEUES,
    "dependencies": DEPENDENCIES,
    "drift": DRIFT,
    "review": REVIEW,
}


def render(name: str) -> str:
    return json.dumps(DASHBOARDS[name], indent=2, sort_keys=True) + "\n"


def main() -> None:
    for name in DASHBOARDS:
        (HERE / f"{name}.json").write_text(render(name))


if __name__ == "__main__":
    main()
