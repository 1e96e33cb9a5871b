"""`rushes bench [NAME...] [--quick] [--table]`: run the repository's benchmarks (`python -m bench`).

The benchmarks live in the repository's `bench/` folder, not in an installed package: they measure
a checkout against its peers and start their own servers, so this command needs a checkout (found
from the current folder upwards, else beside this installed CLI) but no running stack.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

from rushes_config import RushesSettings

from rushes_cli.errors import EXIT_USAGE, CliError


def register(subparsers: Any) -> None:
    bench = subparsers.add_parser(
        "bench", help="run benchmarks against their peers (writes bench/results/latest.json and a table)"
    )
    bench.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    bench.add_argument(
        "--quick", action="store_true", help="small inputs: a smoke run, not a figure to report"
    )
    bench.add_argument("--table", action="store_true", help="only print the table of the last results")
    bench.add_argument("--repo", type=Path, default=None, help="the checkout holding bench/ (default: found)")
    # A benchmark starts its own servers: it must not need `rushes up` (see main._dispatch).
    bench.set_defaults(handler=run_bench, needs_stack=False)


def find_repo(start: Path | None = None) -> Path:
    """The nearest folder holding bench/__main__.py: from `start` (default cwd) upwards, else this CLI's checkout."""
    here = (start or Path.cwd()).resolve()
    candidates = [here, *here.parents, *Path(__file__).resolve().parents]
    for folder in candidates:
        if (folder / "bench" / "__main__.py").is_file():
            return folder
    raise CliError(
        f"no bench/ folder found from {here} upwards: run `rushes bench` inside a Rushes checkout "
        "or pass --repo",
        EXIT_USAGE,
    )


def known_benchmarks(repo: Path) -> list[str]:
    """The names in the checkout's bench registry (bench/__main__.py BENCHMARKS)."""
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    try:
        registry = importlib.import_module("bench.__main__").BENCHMARKS
    except (ImportError, AttributeError) as exc:
        raise CliError(f"cannot read the benchmark registry in {repo / 'bench'}: {exc}", EXIT_USAGE) from None
    return list(registry)


def bench_argv(args: argparse.Namespace) -> list[str]:
    """The `python -m bench` command line for the parsed arguments."""
    argv = [sys.executable, "-m", "bench", *args.names]
    if args.quick:
        argv.append("--quick")
    if args.table:
        argv.append("--table")
    return argv


def run_bench(args: argparse.Namespace, _settings: RushesSettings | None) -> int:
    repo = args.repo.resolve() if args.repo else find_repo()
    if args.repo and not (repo / "bench" / "__main__.py").is_file():
        raise CliError(f"--repo {args.repo}: no bench/__main__.py there", EXIT_USAGE)
    known = known_benchmarks(repo)
    unknown = [name for name in args.names if name not in known]
    if unknown:
        raise CliError(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(known)}", EXIT_USAGE)
    # Its own process: benchmarks start servers and set process-wide state the CLI should not share.
    return subprocess.run(bench_argv(args), cwd=repo, check=False).returncode
