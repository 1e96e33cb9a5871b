"""`rushes up | down | status`: thin printing around rushes_stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import rushes_stack

from rushes_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_UNAVAILABLE, CliError


def _table(report: dict[str, Any]) -> str:
    rows = [("component", "pid", "address", "health", "metrics")]
    for name, comp in report.get("components", {}).items():
        health = comp.get("health", "?")
        models = comp.get("models")
        if models:
            health += " (" + ", ".join(f"{m}: {s}" for m, s in models.items()) + ")"
        rows.append(
            (
                name,
                str(comp.get("pid") or "-"),
                comp.get("address") or "-",
                health,
                comp.get("metrics") or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip()
        for row in rows
    )


def _all_ok(report: dict[str, Any]) -> bool:
    return all(c.get("health") == "ok" for c in report.get("components", {}).values())


def up(state_dir: Path, *, with_triton: bool, as_json: bool) -> int:
    try:
        rushes_stack.up(state_dir, services=None, with_triton=with_triton)
    except rushes_stack.StackError as exc:
        raise CliError(f"could not start the stack: {exc}", EXIT_UNAVAILABLE) from None
    report = rushes_stack.status(state_dir)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(_table(report))
        print(f"\nstate in {state_dir}/  —  stop it with `rushes down`")
    return EXIT_OK if _all_ok(report) else EXIT_FAILED


def down(state_dir: Path) -> int:
    stopped = rushes_stack.down(state_dir)
    print(f"stopped {len(stopped)} processes" if stopped else "nothing was running")
    return EXIT_OK


def status(state_dir: Path, *, as_json: bool) -> int:
    report = rushes_stack.status(state_dir)
    if as_json:
        print(json.dumps(report, indent=2))
    elif not report.get("components"):
        print(f"no stack under {state_dir}/ (start one with `rushes up`)")
    else:
        print(_table(report))
    return EXIT_OK if report.get("components") and _all_ok(report) else EXIT_FAILED
