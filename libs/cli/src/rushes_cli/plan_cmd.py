"""`rushes plan --footage-hours-per-day N [--gpus-per-node G]`: replicas, Triton and GPU nodes
from the measured cost per footage minute (bench/results/latest.json) and the chart's replica sizes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from rushes_cli.capacity import CapacityPlan, PlanError, plan_capacity
from rushes_cli.errors import EXIT_OK, EXIT_USAGE, CliError

DEFAULT_RESULTS = Path("bench/results/latest.json")
DEFAULT_VALUES = Path("charts/rushes/values.yaml")


def register(subparsers: Any) -> None:
    plan = subparsers.add_parser("plan", help="capacity plan: replicas and GPUs for N hours of footage a day")
    plan.add_argument("--footage-hours-per-day", type=float, required=True, metavar="N")
    plan.add_argument("--gpus-per-node", type=int, default=1, metavar="G")
    plan.add_argument(
        "--window-hours", type=float, default=12.0, help="a day's rushes must be through in (12)"
    )
    plan.add_argument("--utilisation", type=float, default=0.7, help="target utilisation (0.7)")
    plan.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="bench results file")
    plan.add_argument(
        "--values", type=Path, default=DEFAULT_VALUES, help="the chart's values (replica sizes)"
    )
    plan.add_argument("--json", action="store_true")
    plan.set_defaults(handler=run, needs_stack=False)


def run(args: argparse.Namespace, _settings: object) -> int:
    figures = _resources(args.results)
    try:
        plan = plan_capacity(
            figures["cpu_s_per_footage_min"],
            footage_hours_per_day=args.footage_hours_per_day,
            window_hours=args.window_hours,
            utilisation=args.utilisation,
            cores_per_replica=_replica_cores(args.values),
            gpu_s_per_min=_gpu_seconds(figures),
            gpus_per_node=args.gpus_per_node,
        )
    except PlanError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    corpus = figures.get("corpus") or {}
    if corpus:
        plan.assumptions.insert(
            1,
            f"measured on {corpus.get('clips', '?')} clips of {corpus.get('seconds_each', '?')} s at "
            f"{corpus.get('size', '?')} ({figures.get('measured_at', '?')}): camera originals at 1080p/4K cost "
            "more per minute in ingest, tagging, enhance and qc: measure a representative corpus",
        )
    print(json.dumps(plan.to_dict(), indent=2) if args.json else render(plan))
    return EXIT_OK


def _resources(path: Path) -> dict[str, Any]:
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))["figures"]["resources"]
    except FileNotFoundError:
        raise CliError(
            f"{path}: no bench results; run `python -m bench resources` first", EXIT_USAGE
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CliError(
            f"{path}: no resources figures ({exc}); run `python -m bench resources`", EXIT_USAGE
        ) from None
    if "cpu_s_per_footage_min" not in figures:
        raise CliError(f"{path}: the resources benchmark failed: {figures.get('failed', '?')}", EXIT_USAGE)
    return dict(figures)


def _gpu_seconds(figures: dict[str, Any]) -> float | None:
    value = (figures.get("gpu") or {}).get("gpu_s_per_footage_min")
    return float(value) if isinstance(value, int | float) else None


def _replica_cores(values_path: Path) -> dict[str, float]:
    """Each service's CPU request in the chart (the default when it sets none); {} without a chart."""
    try:
        values = yaml.safe_load(values_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    default = _cores(
        ((values.get("serviceDefaults") or {}).get("resources") or {}).get("requests", {}).get("cpu")
    )
    found = {}
    for name, spec in (values.get("services") or {}).items():
        request = (((spec or {}).get("resources") or {}).get("requests") or {}).get("cpu")
        cores = _cores(request) or default
        if cores:
            found[str(name)] = cores
    return found


def _cores(quantity: object) -> float | None:
    if quantity is None:
        return None
    text = str(quantity)
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return None


def render(plan: CapacityPlan) -> str:
    lines = [f"{'stage':<9} {'cpu-s/min':>9} {'cores':>7} {'per replica':>11} {'replicas':>8}"]
    for stage in plan.stages:
        lines.append(
            f"{stage.name:<9} {stage.cpu_s_per_footage_min:>9.2f} {stage.cores:>7.2f} "
            f"{stage.cores_per_replica:>11g} {stage.replicas:>8d}"
        )
    lines.append(f"triton    models on CPU: {plan.triton_cpu_cores:.2f} cores")
    if plan.triton_gpu_instances is not None:
        lines.append(f"triton    {plan.triton_gpu_instances} GPU instance(s) on {plan.gpu_nodes} GPU node(s)")
    lines.append("assumptions:")
    lines += [f"  - {item}" for item in plan.assumptions]
    return "\n".join(lines)
