"""Every metric a dashboard panel, an alert or an autoscaler query names is actually exported.

Starts the real local stack (`rushes up`), processes a clip end to end, scrapes every component's
/metrics, and checks each selector's metric name against the scrape. When a Prometheus server is
available (Debian's `prometheus` package, or RUSHES_PROMETHEUS_BIN), it also scrapes the stack
itself, loads the alert rules and evaluates every expression: no rule or query may error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from ops_promql import alert_expressions, dashboard_expressions, metric_names
from prometheus_client.parser import text_string_to_metric_families
from rushes_testing.media import make_clip

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "rushes"
ALERTS = CHART / "alerts" / "rushes.rules.yaml"
RUSHES = [sys.executable, "-m", "rushes_cli.main"]

# Metrics that only a service which does not run in the local stack yet (or does not emit them yet)
# exports. Keep it short; an entry that starts being exported fails the test until it is removed.
# service -> metrics a dashboard or alert references that the service declares but does not export
# yet (keep it empty: an entry is a promise with a name on it).
NOT_YET_EXPORTED: dict[str, set[str]] = {}
ALLOWED_MISSING = set().union(*NOT_YET_EXPORTED.values())


def rushes(state_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    result = subprocess.run(
        [*RUSHES, "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"rushes {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The running stack after one clip went through every stage: its status (metrics URLs)."""
    state_dir = tmp_path_factory.mktemp("ops-stack") / ".rushes"
    clip = make_clip(
        tmp_path_factory.mktemp("ops-clip") / "OPS_A001.mp4", seconds=2, width=640, height=360, seed=9
    )
    try:
        rushes(state_dir, "up", timeout=240)
        records = json.loads(rushes(state_dir, "ingest", "--wait", "--json", str(clip)).stdout)
        assert records[0]["status"] == "complete", records
        yield json.loads(rushes(state_dir, "status", "--json").stdout)["components"]
    finally:
        subprocess.run(
            [*RUSHES, "--state-dir", str(state_dir), "down"], capture_output=True, timeout=120, check=False
        )


@pytest.fixture(scope="module")
def scraped(stack: dict[str, Any]) -> dict[str, set[str]]:
    """component -> names of the samples its /metrics exposes right now."""
    exported: dict[str, set[str]] = {}
    for name, component in stack.items():
        url = component.get("metrics")
        if not url:
            continue
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read().decode()
        exported[name] = series_names(body)
    return exported


def series_names(body: str) -> set[str]:
    """Names of the series in a text exposition, as Prometheus stores them.

    Read from the sample lines themselves: prometheus_client's parser renames counters that lack
    `_total` (Triton's nv_* counters), which is not what a PromQL selector matches.
    """
    names = set()
    for line in body.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def referenced_expressions() -> dict[str, str]:
    """Every PromQL expression the chart ships: alerts, dashboard panels, KEDA's Triton trigger."""
    expressions = {f"alert {k}": v for k, v in alert_expressions(ALERTS).items()}
    expressions.update({f"dashboard {k}": v for k, v in dashboard_expressions(CHART / "dashboards").items()})
    values = yaml.safe_load((CHART / "ci" / "offline-values.yaml").read_text())
    manifests = helm.Chart.load(CHART).render(values, name="rushes", namespace="rushes")
    for doc in yaml.safe_load_all(manifests["rushes/templates/triton.yaml"]):
        if doc and doc["kind"] == "ScaledObject":
            for trigger in doc["spec"]["triggers"]:
                expressions[f"keda {doc['metadata']['name']}"] = trigger["metadata"]["query"]
    return expressions


def test_every_referenced_metric_is_exported_by_a_running_component(scraped: dict[str, set[str]]) -> None:
    assert {"ingest", "library", "tagging", "asr", "triton"} <= set(scraped)
    exported = set().union(*scraped.values())
    missing: dict[str, set[str]] = {}
    for where, expr in referenced_expressions().items():
        absent = metric_names(expr) - exported - ALLOWED_MISSING
        if absent:
            missing[where] = absent
    assert not missing, (
        f"referenced but exported by no component: {json.dumps({k: sorted(v) for k, v in missing.items()}, indent=1)}"
    )


def test_the_allowlist_is_short_declared_and_not_stale(scraped: dict[str, set[str]]) -> None:
    import rushes_metrics

    assert len(ALLOWED_MISSING) <= 3
    declared = {
        m._name for m in vars(rushes_metrics).values() if hasattr(m, "_name") and hasattr(m, "collect")
    }
    exported = set().union(*scraped.values())
    referenced = set().union(*(metric_names(e) for e in referenced_expressions().values()))
    for service, names in NOT_YET_EXPORTED.items():
        for name in names:
            assert name.removesuffix("_total") in declared, (
                f"{name} ({service}) is not declared in rushes_metrics"
            )
            assert name not in exported, (
                f"{name} is exported now: remove it from NOT_YET_EXPORTED[{service!r}]"
            )
            assert name in referenced, f"{name} is referenced by nothing: remove it from the allowlist"


def test_clip_moved_the_pipeline_and_drift_series(
    scraped: dict[str, set[str]], stack: dict[str, Any]
) -> None:
    # Not just declared: the clip produced samples that dashboards need to be non-empty.
    values = _sample_values(stack["tagging"]["metrics"])
    ok = values[("rushes_stage_processed_total", (("result", "ok"), ("stage", "tagging")))]
    assert ok >= 1
    outputs = sum(v for (name, _), v in values.items() if name == "rushes_model_outputs_total")
    assert outputs >= 3, "shot_type, category and exposure of at least one shot"
    assert values[("rushes_triton_model_ready", (("model", "face_detector"),))] == 1.0
    footage = values[("rushes_footage_seconds_processed_total", (("stage", "tagging"),))]
    assert footage == pytest.approx(2.0, abs=0.1)


def _sample_values(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def _prometheus_binary() -> str | None:
    return os.environ.get("RUSHES_PROMETHEUS_BIN") or shutil.which("prometheus")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _api(port: int, path: str, **params: str) -> Any:
    url = f"http://127.0.0.1:{port}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_a_real_prometheus_scrapes_the_stack_and_evaluates_every_expression(
    stack: dict[str, Any], tmp_path: Path
) -> None:
    binary = _prometheus_binary()
    if binary is None:
        pytest.skip("no prometheus binary (Debian package `prometheus` or RUSHES_PROMETHEUS_BIN)")
    targets = {name: urllib.parse.urlsplit(c["metrics"]) for name, c in stack.items() if c.get("metrics")}
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [
            {"job_name": name, "metrics_path": url.path, "static_configs": [{"targets": [url.netloc]}]}
            for name, url in targets.items()
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = _free_port()
    log = (tmp_path / "prometheus.log").open("w")
    server = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_for_scrapes_and_rules(port, expected_targets=len(targets))
        rules = [r for g in _api(port, "rules")["data"]["groups"] for r in g["rules"]]
        assert len(rules) == len(alert_expressions(ALERTS))
        for rule in rules:
            assert rule["health"] == "ok", f"{rule['name']}: {rule.get('lastError')}"
        for where, expr in referenced_expressions().items():
            answer = _api(port, "query", query=expr)
            assert answer["status"] == "success", f"{where}: {answer}"
        referenced = set().union(*(metric_names(e) for e in referenced_expressions().values()))
        for name in sorted(referenced - ALLOWED_MISSING):
            series = _api(port, "series", **{"match[]": name})["data"]
            assert series, f"Prometheus holds no series named {name}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def _wait_for_scrapes_and_rules(port: int, *, expected_targets: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            active = _api(port, "targets")["data"]["activeTargets"]
            rules = [r for g in _api(port, "rules")["data"]["groups"] for r in g["rules"]]
            if (
                len(active) == expected_targets
                and all(t["health"] == "up" for t in active)
                and rules
                and all(r.get("lastEvaluation", "").startswith("2") for r in rules)
            ):
                time.sleep(3)  # a few more scrapes so rate() over the window has two points
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "Prometheus did not scrape every target and evaluate the rules"
        time.sleep(0.5)
