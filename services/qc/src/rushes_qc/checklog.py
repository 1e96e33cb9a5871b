"""The QC log: one row per check (time, shot, metric, value, threshold, verdict), queryable per asset.

Each checked rendition's rows are one small JSON object at a deterministic key under
assets/<id>/qc/log/, so a redelivered event rewrites the same rows instead of adding copies, and
the log of an asset is the union of its objects. Pure apart from the key helpers (no storage).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rushes.events.v1 import events_pb2
from rushes_storage import asset_key

from rushes_qc.report import JudgedShot

MAX_LOG_BYTES = 16 * 1024**2
# The row of a rendition that could not be compared at all (missing, mismatched, unreadable).
CHECKABLE = "checkable"

Row = dict[str, Any]


def log_prefix(asset_id: str) -> str:
    return asset_key(asset_id, "qc", "log") + "/"


def log_key(asset_id: str, rendition: events_pb2.Rendition) -> str:
    """One object per (fix, rendition, version, source): a re-check replaces its rows."""
    identity = f"{rendition.fix}|{rendition.object_key}|{rendition.version}|{rendition.source_key}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return asset_key(asset_id, "qc", "log", f"{rendition.fix or 'generic'}-{digest}.json")


def rows_for(result: events_pb2.RenditionQc, judged: Sequence[JudgedShot], checked_at: float) -> list[Row]:
    """Every check of every judged shot, passes included; one failed row when nothing was compared."""
    base = {
        "time": datetime.fromtimestamp(checked_at, UTC).isoformat(timespec="milliseconds"),
        "fix": result.fix or "generic",
        "rendition_key": result.object_key,
        "rendition_version": result.version,
        "preset": result.preset,
    }
    if result.error:
        return [{**base, "shot": 0, "metric": CHECKABLE, "value": 0.0, "threshold": 0.0, "review_threshold": 0.0,
                 "fail_threshold": 0.0, "direction": "", "verdict": "fail", "detail": result.error}]  # fmt: skip
    rows = []
    for shot in judged:
        for check in shot.verdict.checks:
            rows.append({
                **base, "shot": shot.index, "metric": check.metric, "value": round(check.value, 4),
                "threshold": check.threshold, "review_threshold": check.review_threshold,
                "fail_threshold": check.fail_threshold, "direction": check.direction,
                "verdict": check.verdict, "detail": "",
            })  # fmt: skip
    return rows


def parse(body: bytes, key: str) -> list[Row]:
    """Rows of one stored log object; ValueError naming the key when it is not one."""
    try:
        rows = json.loads(body)["rows"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"QC log object {key} is unreadable: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"QC log object {key} holds no list of rows")
    return rows


def ordered(rows: list[Row]) -> list[Row]:
    """Oldest first; within one check run by rendition, shot and metric."""
    return sorted(
        rows,
        key=lambda r: (
            str(r.get("time", "")), str(r.get("rendition_key", "")), int(r.get("shot", 0)), str(r.get("metric", ""))
        ),
    )  # fmt: skip
