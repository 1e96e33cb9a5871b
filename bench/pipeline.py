"""End to end: 10 generated clips through the local stack, and the share of wall time the control plane takes.

`rushes up` in a temporary state folder, then one `rushes ingest --wait --json` of every clip (see
bench/stack_session.py for the corpus). From the asset records:

- wall W: from just before `rushes ingest` is launched to the last `stages.*.finished_at` of any
  asset (the CLI's own exit, which adds its --wait polling lag, is reported beside it);
- stage runs: every (asset, stage) interval [started_at, finished_at], as each service records it:
  the stage's own work (download, compute, upload), without the time its event waited in JetStream;
- busy time U: the length of the union of all stage runs inside [t0, t0 + W], i.e. the time during
  which at least one stage of at least one asset was working;
- control-plane share = (W - U) / W: the share of the wall during which no stage was working, so
  everything that moved was the control plane: CLI start and upload, event publish and delivery,
  consumer fetch, catalog projection, stage start-up before it stamps started_at. Target <= 5 %.

`idle_handoff_s` is the sharper view of the same cost: from an asset's previous stage finishing to
its next stage starting, counted only when that stage's service was idle meanwhile (so it is event
delivery and start-up, not queueing behind other assets' work).

The formula "1 - sum(stage compute) / (W x parallelism)" is reported as `stage_occupancy` (with
parallelism = CPU cores), not judged: on a small corpus it is dominated by pipeline fill and drain
(picks waits for tagging and asr, qc for enhance) and by stages that do not use every core, which
are not control-plane costs. Throughput is media duration / W ("x real time").
"""

from __future__ import annotations

import os
from datetime import datetime

from bench.stack_session import Session, run_session

TARGET_SHARE = 0.05


def _epoch(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def stage_runs(records: list[dict[str, object]]) -> list[tuple[str, str, float, float]]:
    """(asset, stage, start, end) of every stage run that has both timestamps."""
    runs = []
    for record in records:
        stages = record.get("stages") or {}
        assert isinstance(stages, dict)
        for stage, info in stages.items():
            start, end = _epoch(info.get("started_at")), _epoch(info.get("finished_at"))
            if start is not None and end is not None and end >= start:
                runs.append((str(record.get("asset_id", "")), stage, start, end))
    return runs


def union_length(intervals: list[tuple[float, float]]) -> float:
    """Total length covered by `intervals` (overlaps counted once)."""
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None and current_start is not None:
        total += current_end - current_start
    return total


def handoffs(runs: list[tuple[str, str, float, float]]) -> list[float]:
    """Seconds from an asset's previous stage finishing to its next stage starting, when that next
    stage's service was idle meanwhile (no run of the same stage for another asset overlapped):
    what the event bus, the consumer and the service's start-up cost, without queueing behind work.
    """
    gaps = []
    for asset, stage, start, _end in runs:
        before = [end for a, s, _st, end in runs if a == asset and s != stage and end <= start]
        if not before:
            continue
        previous = max(before)
        busy = any(s == stage and a != asset and st < start and end > previous for a, s, st, end in runs)
        if not busy:
            gaps.append(start - previous)
    return gaps


def summarise(session: Session, cores: int) -> dict[str, object]:
    records = session.records
    incomplete = [
        f"{r.get('asset_id', '?')}: {r.get('status') or r.get('error')}"
        for r in records
        if r.get("status") != "complete"
    ]
    runs = stage_runs(records)
    if not runs:
        raise RuntimeError(f"no stage run has timestamps in the asset records ({incomplete or 'no records'})")
    t0 = session.ingest_started
    done = max(end for *_, end in runs)
    wall = done - t0
    busy = union_length([(max(start, t0), min(end, done)) for *_, start, end in runs])
    compute = sum(end - start for *_, start, end in runs)
    per_stage: dict[str, float] = {}
    for _asset, stage, start, end in runs:
        per_stage[stage] = per_stage.get(stage, 0.0) + end - start
    share = (wall - busy) / wall
    idle_handoffs = sorted(handoffs(runs))
    realtime = session.footage_s / wall
    return {
        "corpus": session.corpus,
        "footage_s": session.footage_s,
        "assets_complete": len(records) - len(incomplete),
        "assets_not_complete": incomplete,
        "wall_s": round(wall, 2),
        "cli_exit_s": round(session.cli_finished - t0, 2),
        "busy_s": round(busy, 2),
        "stage_compute_s": {stage: round(value, 2) for stage, value in sorted(per_stage.items())},
        "stage_compute_total_s": round(compute, 2),
        "x_real_time": round(realtime, 3),
        "control_plane_share": round(share, 4),
        "stage_occupancy": {"cores": cores, "value": round(compute / (wall * cores), 4)},
        "idle_handoff_s": {
            "count": len(idle_handoffs),
            "p50": round(idle_handoffs[len(idle_handoffs) // 2], 3) if idle_handoffs else None,
            "max": round(idle_handoffs[-1], 3) if idle_handoffs else None,
        },
        "target": f"control-plane share <= {TARGET_SHARE:.0%}",
        "meets_target": share <= TARGET_SHARE and not incomplete,
        "rows": [
            {
                "figure": "end-to-end control-plane share (10 clips)",
                "ours": f"{share:.1%}",
                "peer": f"{busy:.1f} s busy of {wall:.1f} s",
                "ratio": None,
                "target": f"<= {TARGET_SHARE:.0%}",
                "met": share <= TARGET_SHARE and not incomplete,
            },
            {
                "figure": "end-to-end media duration / wall time",
                "ours": f"{realtime:.2f}x",
                "peer": f"{session.footage_s:.0f} s media",
                "ratio": None,
                "target": "",
                "met": None,
            },
        ],
    }


def run(*, quick: bool = False) -> dict[str, object]:
    return summarise(run_session(quick), os.cpu_count() or 1)
