"""The capacity plan: measured cost per footage minute -> replicas, Triton instances, GPU nodes.

Pure arithmetic over a bench results file (`python -m bench resources` writes
figures.resources.cpu_s_per_footage_min and, on a GPU machine, gpu_s_per_footage_min). Every
assumption is returned with the plan so `rushes plan` can print it beside the numbers.

    cores(stage)     = F * cpu_s_per_min(stage) / (W * 3600 * u)      F = footage minutes per day
    replicas(stage)  = ceil(cores(stage) / cores requested by one replica)
    triton instances = ceil(F * gpu_s_per_min(all models) / (W * 3600 * u))   one per GPU
    GPU nodes        = ceil(triton instances / GPUs per node)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

SERVICES = ("ingest", "library", "tagging", "asr", "picks", "grading", "enhance", "qc")
TRITON_PREFIX = "triton:"


class PlanError(ValueError):
    """The inputs cannot make a plan (missing figures, nonsense arguments)."""


@dataclass(frozen=True)
class StagePlan:
    name: str
    cpu_s_per_footage_min: float
    cores: float
    cores_per_replica: float
    replicas: int


@dataclass(frozen=True)
class CapacityPlan:
    footage_min_per_day: float
    stages: list[StagePlan]
    triton_cpu_cores: float
    triton_gpu_instances: int | None  # None: no GPU figures measured
    gpu_nodes: int | None
    assumptions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "footage_min_per_day": self.footage_min_per_day,
            "stages": [stage.__dict__ for stage in self.stages],
            "triton_cpu_cores": self.triton_cpu_cores,
            "triton_gpu_instances": self.triton_gpu_instances,
            "gpu_nodes": self.gpu_nodes,
            "assumptions": self.assumptions,
        }


def plan_capacity(
    cpu_s_per_min: Mapping[str, float],
    *,
    footage_hours_per_day: float,
    window_hours: float = 12.0,
    utilisation: float = 0.7,
    cores_per_replica: Mapping[str, float] | None = None,
    gpu_s_per_min: float | None = None,
    gpus_per_node: int = 1,
) -> CapacityPlan:
    if not 0 < footage_hours_per_day <= 24 * 365:
        raise PlanError(f"footage hours per day must be positive, got {footage_hours_per_day}")
    if not 0 < window_hours <= 24:
        raise PlanError(f"the processing window must be within (0, 24] hours, got {window_hours}")
    if not 0 < utilisation <= 1:
        raise PlanError(f"utilisation must be within (0, 1], got {utilisation}")
    if gpus_per_node < 1:
        raise PlanError(f"GPUs per node must be at least 1, got {gpus_per_node}")
    missing = [name for name in SERVICES if name not in cpu_s_per_min]
    if missing:
        raise PlanError(
            f"the results have no CPU figure for {', '.join(missing)}: run `python -m bench resources`"
        )
    footage_min = footage_hours_per_day * 60.0
    budget_s = window_hours * 3600.0 * utilisation
    requests = dict(cores_per_replica or {})
    stages = []
    for name in SERVICES:
        cost = float(cpu_s_per_min[name])
        cores = footage_min * cost / budget_s
        per_replica = float(requests.get(name, 1.0))
        stages.append(
            StagePlan(name, cost, round(cores, 2), per_replica, max(1, math.ceil(cores / per_replica)))
        )
    triton_cost = sum(float(v) for k, v in cpu_s_per_min.items() if k.startswith(TRITON_PREFIX))
    triton_cores = round(footage_min * triton_cost / budget_s, 2)
    assumptions = [
        f"{footage_min:.0f} footage minutes a day processed within {window_hours:g} h at {utilisation:.0%} utilisation",
        "costs per footage minute as measured by bench/resources on its corpus (its size and the share of "
        "shots tagging flags for enhancement drive the enhance and qc figures)",
        "replica sizes: " + ", ".join(f"{s.name} {s.cores_per_replica:g}" for s in stages) + " cores",
    ]
    if gpu_s_per_min is None:
        instances = nodes = None
        assumptions.append(
            "no GPU seconds were measured (the results say no GPU): Triton is sized in CPU cores for the "
            "models run here; on GPU nodes run `make bench` there and plan again"
        )
    else:
        instances = max(1, math.ceil(footage_min * gpu_s_per_min / budget_s))
        nodes = math.ceil(instances / gpus_per_node)
        assumptions.append(f"{gpus_per_node} GPU(s) per node, one Triton instance per GPU")
    return CapacityPlan(footage_min, stages, triton_cores, instances, nodes, assumptions)
