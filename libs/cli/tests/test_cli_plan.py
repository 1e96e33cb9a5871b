"""The capacity plan: arithmetic on measured costs, and `rushes plan` reading a results file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rushes_cli.capacity import SERVICES, PlanError, plan_capacity
from rushes_cli.main import main

COSTS = {
    **dict.fromkeys(SERVICES, 6.0),
    "enhance": 100.0,
    "triton:whisper": 12.0,
    "triton:face_detector": 3.0,
}


def test_replicas_follow_cost_footage_and_window() -> None:
    plan = plan_capacity(COSTS, footage_hours_per_day=10, cores_per_replica={"enhance": 2.0})
    enhance = next(s for s in plan.stages if s.name == "enhance")
    # 600 min * 100 s / (12 h * 3600 * 0.7) = 1.98 cores -> one 2-core replica
    assert enhance.cores == pytest.approx(1.98, abs=0.01) and enhance.replicas == 1
    bigger = plan_capacity(COSTS, footage_hours_per_day=40, cores_per_replica={"enhance": 2.0})
    assert next(s for s in bigger.stages if s.name == "enhance").replicas == 4
    assert plan.triton_cpu_cores == pytest.approx(600 * 15 / 30240, abs=0.01)
    assert plan.triton_gpu_instances is None and any("no GPU" in a for a in plan.assumptions)
    gpu = plan_capacity(COSTS, footage_hours_per_day=100, gpu_s_per_min=20.0, gpus_per_node=4)
    assert (
        gpu.triton_gpu_instances == 4 and gpu.gpu_nodes == 1
    )  # 6000 * 20 / 30240 = 3.97 -> 4 GPUs, one node


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(PlanError, match="footage hours"):
        plan_capacity(COSTS, footage_hours_per_day=0)
    with pytest.raises(PlanError, match="no CPU figure for qc"):
        plan_capacity({k: v for k, v in COSTS.items() if k != "qc"}, footage_hours_per_day=1)
    with pytest.raises(PlanError, match="utilisation"):
        plan_capacity(COSTS, footage_hours_per_day=1, utilisation=1.5)


def test_rushes_plan_reads_the_results_and_the_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "latest.json"
    results.write_text(json.dumps({"figures": {"resources": {"cpu_s_per_footage_min": COSTS, "gpu": {}}}}))
    values = tmp_path / "values.yaml"
    values.write_text(
        "serviceDefaults: {resources: {requests: {cpu: 500m}}}\nservices:\n  enhance: {resources: {requests: {cpu: '2'}}}\n  qc: {}\n"
    )
    code = main(
        [
            "plan",
            "--footage-hours-per-day",
            "10",
            "--results",
            str(results),
            "--values",
            str(values),
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    sizes = {s["name"]: s["cores_per_replica"] for s in out["stages"]}
    assert sizes["enhance"] == 2.0 and sizes["qc"] == 0.5 and sizes["ingest"] == 1.0
    missing = main(["plan", "--footage-hours-per-day", "10", "--results", str(tmp_path / "none.json")])
    assert missing == 2 and "run `python -m bench resources` first" in capsys.readouterr().err
