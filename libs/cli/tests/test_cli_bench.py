"""`rushes bench`: argument parsing, finding the checkout, and the results table (no benchmark runs)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rushes_cli.bench_cmd import bench_argv, find_repo, run_bench
from rushes_cli.errors import EXIT_USAGE, CliError
from rushes_cli.main import _parser

REPO = Path(__file__).resolve().parents[3]

SAMPLE_RESULTS = {
    "started": "2026-01-01T00:00:00Z",
    "machine": {"cpu_count": 2, "platform": "Linux-test"},
    "figures": {
        "events": {
            "rows": [
                {"figure": "event bus publish-to-consume p50 (ms)", "ours": 1.0, "peer": 0.8,
                 "ratio": 1.25, "target": "<= 1.5", "met": True},
            ],
            "quick": False,
        },
        "ingest": {"rushes_s": {"best": 52.0}, "ffmpeg_cli_s": {"best": 56.0}, "ratio": 0.929,
                   "target": "<= 1.2", "meets_target": True, "quick": False},
        "storage": {"failed": "ComponentFailed: s3 failed to start: port in use", "quick": True},
        "odd": {"ratio": 0.5, "target": ">= 0.9", "meets_target": False},
    },
}  # fmt: skip


def test_bench_parses_names_and_flags() -> None:
    args = _parser().parse_args(["bench", "events", "storage", "--quick"])
    assert args.names == ["events", "storage"] and args.quick and not args.table
    assert args.handler is run_bench and args.needs_stack is False
    assert bench_argv(args)[1:] == ["-m", "bench", "events", "storage", "--quick"]
    everything = _parser().parse_args(["bench"])
    assert everything.names == [] and bench_argv(everything)[1:] == ["-m", "bench"]
    assert bench_argv(_parser().parse_args(["bench", "--table"]))[-1] == "--table"


def test_unknown_benchmark_is_a_usage_error_naming_it() -> None:
    args = _parser().parse_args(["bench", "nosuch", "--repo", str(REPO)])
    with pytest.raises(CliError, match=r"unknown benchmark.*nosuch.*known:.*events") as error:
        run_bench(args, None)
    assert error.value.exit_code == EXIT_USAGE


def test_a_folder_without_bench_is_a_usage_error(tmp_path: Path) -> None:
    args = _parser().parse_args(["bench", "--repo", str(tmp_path)])
    with pytest.raises(CliError, match=r"no bench/__main__\.py") as error:
        run_bench(args, None)
    assert error.value.exit_code == EXIT_USAGE
    assert find_repo(REPO / "libs" / "cli") == REPO  # found from a subfolder upwards


def test_table_renders_every_figure_from_a_results_file(tmp_path: Path) -> None:
    results = tmp_path / "latest.json"
    results.write_text(json.dumps(SAMPLE_RESULTS))
    shown = subprocess.run(
        [sys.executable, "-m", "bench", "--table", "--results", str(results)],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    lines = shown.splitlines()
    assert lines[0].startswith("machine: cpu_count=2, platform=Linux-test")
    assert lines[1].split() == ["figure", "ours", "peer", "ratio", "target", "met?"]
    by_figure = {line.split("  ")[0].strip(): line for line in lines[3:]}
    assert "1.25" in by_figure["event bus publish-to-consume p50 (ms)"]
    assert by_figure["event bus publish-to-consume p50 (ms)"].rstrip().endswith("yes")
    assert "52" in by_figure["ingest wall time (s)"] and "0.929" in by_figure["ingest wall time (s)"]
    failed = by_figure["storage [quick]"]
    assert "FAILED" in failed and "port in use" in failed and failed.rstrip().endswith("NO")
    assert by_figure["odd"].rstrip().endswith("NO") and ">= 0.9" in by_figure["odd"]


def test_table_without_a_results_file_says_so(tmp_path: Path) -> None:
    missing = subprocess.run(
        [sys.executable, "-m", "bench", "--table", "--results", str(tmp_path / "none.json")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 2 and "no results file" in missing.stderr


def test_bench_argv_keeps_order_of_names() -> None:
    args = argparse.Namespace(names=["storage", "events"], quick=False, table=False)
    assert bench_argv(args)[3:] == ["storage", "events"]
