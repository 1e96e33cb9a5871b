"""Measured results of the chaos scenarios, for the README table (scenario -> assets in, out, lost,
duplicated, time to recover). Appended as JSON lines to $RUSHES_CHAOS_REPORT when it is set."""

from __future__ import annotations

import json
import os
import time


def record_result(
    scenario: str,
    *,
    assets_in: int,
    assets_out: int,
    lost: int,
    duplicated: int,
    recover_s: float,
    note: str = "",
) -> None:
    path = os.environ.get("RUSHES_CHAOS_REPORT")
    if not path:
        return
    line = {
        "scenario": scenario,
        "assets_in": assets_in,
        "assets_out": assets_out,
        "lost": lost,
        "duplicated": duplicated,
        "recover_s": round(recover_s, 1),
        "note": note,
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
