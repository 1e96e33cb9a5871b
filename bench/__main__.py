"""`python -m bench [NAME...]`: run the benchmarks, write bench/results/latest.json and a table."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from bench import asr, ingest, shots, tagging

BENCHMARKS = {"ingest": ingest.run, "shots": shots.run, "tagging": tagging.run, "asr": asr.run}
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument(
        "--quick", action="store_true", help="smaller inputs (a smoke run, not a figure to report)"
    )
    args = parser.parse_args()
    names = args.names or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    report: dict[str, object] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
    }
    figures = {}
    for name in names:
        print(f"== {name}", flush=True)
        figures[name] = {
            **BENCHMARKS[name](quick=args.quick),
            "measured_at": report["started"],
            "quick": args.quick,
        }
        print(json.dumps(figures[name], indent=2), flush=True)
    RESULTS.mkdir(exist_ok=True)
    latest = RESULTS / "latest.json"
    if latest.exists() and set(names) != set(BENCHMARKS):
        # A partial run updates its own figures and keeps the others (each says when it ran).
        previous = json.loads(latest.read_text()).get("figures", {})
        figures = {**previous, **figures}
    report["figures"] = figures
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2))
    print(f"\nwrote {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
