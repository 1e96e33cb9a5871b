"""Soak: 200 short clips through the whole local stack, in two hundreds (quick: 2 x 10).

Figures: all complete (assets in / out / lost), peak RSS (VmHWM) per service, RSS growth of each
service across the second hundred (after the first hundred the processes are warm: imports,
models, pools; what still grows after that is a leak) against a stated bound, and back-pressure:
the most work any stage held at once (rushes_stage_in_flight, bounded by the consumer batch) while
the backlog showed up as consumer lag (rushes_consumer_pending_messages) instead of memory.

The stack runs with the learned upscaler limited to 16-pixel frames (RUSHES_ENHANCE_UPSCALE_MODEL_MAX_PIXELS):
on this CPU it costs 10-30 s per clip and would make the soak hours long without exercising any
more of the delivery path; the classical path renders every rendition instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
from rushes_stack import load_state, service_env
from rushes_stack import status as stack_status
from rushes_testing.media import make_clip

RUSHES = [sys.executable, "-m", "rushes_cli.main"]
SOAK_ENV = {"RUSHES_ENHANCE_UPSCALE_MODEL_MAX_PIXELS": "16"}
GROWTH_BOUND_MIB = 50.0  # per service, across the second hundred
_SAMPLE = re.compile(r'^(rushes_stage_in_flight|rushes_consumer_pending_messages)\{stage="([^"]+)"\} (\S+)$')


def _rushes(state_dir: Path, *args: str, timeout: float = 600) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")} | SOAK_ENV
    result = subprocess.run(
        [*RUSHES, "--state-dir", str(state_dir), *args],
        capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"rushes {args[0]} exited {result.returncode}: {result.stderr.strip()[-500:]}")
    return result.stdout


def _memory_kib(pid: int) -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _services_memory(state_dir: Path) -> dict[str, tuple[int, int]]:
    state = load_state(state_dir)
    assert state is not None
    return {
        name: _memory_kib(proc.process.pid)
        for name, proc in state.services.items()
        if proc.process is not None
    }


class _BackPressure(threading.Thread):
    """Samples every service's in-flight and pending gauges until stopped; keeps the maxima."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(daemon=True)
        self.urls = [c["metrics"] for c in stack_status(state_dir)["components"].values() if c.get("metrics")]
        self.in_flight: dict[str, float] = {}
        self.pending: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            for url in self.urls:
                try:
                    with urllib.request.urlopen(url, timeout=2) as reply:
                        text = reply.read().decode()
                except OSError:
                    continue
                for line in text.splitlines():
                    if match := _SAMPLE.match(line):
                        name, stage, value = match.group(1), match.group(2), float(match.group(3))
                        target = self.in_flight if name == "rushes_stage_in_flight" else self.pending
                        target[stage] = max(target.get(stage, 0.0), value)


def _settle(dsn: str, ids: list[str], timeout_s: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout_s
    while True:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT asset_id, status FROM assets WHERE asset_id = ANY(%s)", [ids]
            ).fetchall()
        found = {str(a): str(s) for a, s in rows}
        statuses = {a: found.get(a, "absent") for a in ids}
        if all(s not in ("processing", "absent") for s in statuses.values()) or time.monotonic() > deadline:
            return statuses
        time.sleep(1.0)


def _hundred(state_dir: Path, clips: list[Path], dsn: str) -> tuple[list[str], dict[str, str], float]:
    started = time.monotonic()
    out = _rushes(state_dir, "ingest", *map(str, clips))
    ids = re.findall(r"(?m)^[0-9a-f]{32}\b", out)
    statuses = _settle(dsn, ids, timeout_s=60 + 10 * len(clips))
    return ids, statuses, time.monotonic() - started


def run(*, quick: bool = False) -> dict[str, Any]:
    per_half = 10 if quick else 100
    with tempfile.TemporaryDirectory(prefix="rushes-soak-") as tmp:
        root = Path(tmp)
        state_dir = root / "state"
        clips = [
            make_clip(root / f"soak_{i:03d}.mp4", seconds=1, width=160, height=90, seed=90_000 + i)
            for i in range(2 * per_half)
        ]
        _rushes(state_dir, "up", timeout=300)
        try:
            state = load_state(state_dir)
            assert state is not None
            dsn = service_env(state)["RUSHES_POSTGRES__DSN"]
            pressure = _BackPressure(state_dir)
            pressure.start()
            ids_1, statuses_1, wall_1 = _hundred(state_dir, clips[:per_half], dsn)
            after_first = _services_memory(state_dir)
            ids_2, statuses_2, wall_2 = _hundred(state_dir, clips[per_half:], dsn)
            after_second = _services_memory(state_dir)
            pressure.stop.set()
            pressure.join()
        finally:
            _rushes(state_dir, "down", timeout=300)
    statuses = {**statuses_1, **statuses_2}
    complete = sum(1 for s in statuses.values() if s == "complete")
    growth = {
        name: round((after_second[name][0] - after_first[name][0]) / 1024, 1)
        for name in after_second
        if name in after_first
    }
    return {
        "assets_in": 2 * per_half,
        "assets_out": complete,
        "lost": 2 * per_half - complete,
        "distinct_asset_ids": len(set(ids_1) | set(ids_2)),
        "wall_s": {"first_half": round(wall_1, 1), "second_half": round(wall_2, 1)},
        "peak_rss_mb": {name: round(hwm / 1024, 1) for name, (_rss, hwm) in after_second.items()},
        "rss_growth_second_half_mb": growth,
        "growth_bound_mb": GROWTH_BOUND_MIB,
        "growth_within_bound": all(g <= GROWTH_BOUND_MIB for g in growth.values()),
        "max_in_flight_per_stage": pressure.in_flight,
        "max_pending_per_stage": pressure.pending,
        "settings": SOAK_ENV,
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
