"""`python -m bench [NAME...] [--quick]`: run the benchmarks, write bench/results/latest.json, print a table.

Each benchmark is a module `bench.<name>` with `run(*, quick: bool) -> dict`. Modules are imported
only when their benchmark runs, so one whose dependencies are missing (or that raises) is recorded
as failed with the reason, and the others still run. `--table` only prints the table of a results
file (latest.json by default).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import table

# name -> module under bench/ (the order is the run order: cheap figures first, the stack last).
BENCHMARKS: dict[str, str] = {
    "events": "bench.events",
    "storage": "bench.storage",
    "ingest": "bench.ingest",
    "shots": "bench.shots",
    "tagging": "bench.tagging",
    "asr": "bench.asr",
    "grading": "bench.grading",
    "qc": "bench.qc",
    "search": "bench.search",
    "pipeline": "bench.pipeline",
    "resources": "bench.resources",
    # 200 clips through the whole stack (tens of minutes here); `python -m bench soak --quick`: 20.
    "soak": "bench.soak",
}
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


def load(name: str) -> Callable[..., dict[str, Any]]:
    module = importlib.import_module(BENCHMARKS[name])
    return module.run  # type: ignore[no-any-return]


def run_one(name: str, *, quick: bool) -> dict[str, Any]:
    """One benchmark's figure; an exception becomes {"failed": reason} instead of ending the run."""
    started = time.perf_counter()
    try:
        figure = dict(load(name)(quick=quick))
    except Exception as exc:  # any failure of one benchmark is reported, not fatal
        traceback.print_exc()
        figure = {"failed": f"{type(exc).__name__}: {exc}".strip()}
    figure["duration_s"] = round(time.perf_counter() - started, 1)
    return figure


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument(
        "--quick", action="store_true", help="smaller inputs (a smoke run, not a figure to report)"
    )
    parser.add_argument("--table", action="store_true", help="only print the table of the results file")
    parser.add_argument("--results", type=Path, default=RESULTS / "latest.json", help="results file")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.table:
        if not args.results.is_file():
            print(f"python -m bench: no results file {args.results} (run a benchmark first)", file=sys.stderr)
            return 2
        print(table.render(json.loads(args.results.read_text())))
        return 0
    names = args.names or list(BENCHMARKS)
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
    }
    figures = {}
    for name in names:
        print(f"== {name}", flush=True)
        figures[name] = {
            **run_one(name, quick=args.quick),
            "measured_at": report["started"],
            "quick": args.quick,
        }
        print(json.dumps(figures[name], indent=2), flush=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    if args.results.exists() and set(names) != set(BENCHMARKS):
        # A partial run updates its own figures and keeps the others (each says when it ran).
        previous = json.loads(args.results.read_text()).get("figures", {})
        figures = {**previous, **figures}
    report["figures"] = figures
    args.results.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {args.results}\n")
    print(table.render(report))
    failed = [name for name in names if "failed" in figures[name]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
