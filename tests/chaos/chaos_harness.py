"""What the fault, hostile-input and load tests share: a real local stack driven through the CLI,
and the ground truth read straight from where it lives (catalog rows in Postgres, objects in S3,
events in the JetStream stream), so "nothing lost, nothing duplicated" is checked at the source
rather than through the API under test.

The stack runs with two settings that make faults cheap to provoke on a 2-core box, both passed
through the environment of `rushes up` (services inherit it):
- a short ack wait (CHAOS_ACK_WAIT_S): a delivery whose worker was killed comes back in seconds,
  and every job longer than it must keep its lease with in-progress acks;
- the learned upscaler only for frames up to 16 pixels: on CPU it costs 10-30 s per clip and the
  enhance stage would dominate every scenario; the classical path exercises the same delivery code.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
from rushes_config import RushesSettings
from rushes_events import EventBus, PoisonMessage, decode_event
from rushes_stack import load_state, service_env
from rushes_stack import status as stack_status
from rushes_storage import ObjectStore
from rushes_testing.media import make_clip

RUSHES = [sys.executable, "-m", "rushes_cli.main"]
CHAOS_ACK_WAIT_S = 2.0
CHAOS_ENV = {
    "RUSHES_NATS__ACK_WAIT_S": str(CHAOS_ACK_WAIT_S),
    "RUSHES_NATS__BACKOFF_S": "[0.5, 1.0, 2.0]",
    "RUSHES_ENHANCE_UPSCALE_MODEL_MAX_PIXELS": "16",
}
# Announcements made once per attempt (a redelivery announces again): not a stage's output.
PER_ATTEMPT_SUBJECTS = frozenset({"rushes.v1.asset.stage_started"})
COMPLETION_SUBJECTS = {
    "ingest": "rushes.v1.asset.ingested",
    "tagging": "rushes.v1.asset.tagged",
    "asr": "rushes.v1.asset.transcribed",
    "picks": "rushes.v1.asset.picked",
    "enhance": "rushes.v1.asset.enhanced",
    "qc": "rushes.v1.asset.qc",
}
INFRASTRUCTURE = ("nats", "s3", "postgres", "triton")


def assets_in_flight(default: int) -> int:
    """How many assets a fault scenario keeps in flight: small in CI (2 cores), RUSHES_CHAOS_ASSETS
    raises it (the issue asks for 20)."""
    raw = os.environ.get("RUSHES_CHAOS_ASSETS", "")
    return int(raw) if raw.strip() else default


def rushes(
    state_dir: Path, *args: str, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI against the stack under state_dir (the test's own RUSHES_* never leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    env.update(CHAOS_ENV)
    result = subprocess.run(
        [*RUSHES, "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"rushes {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def make_clips(directory: Path, count: int, *, seed: int, seconds: float = 1.0) -> list[Path]:
    """`count` distinct short clips (distinct bytes: distinct assets) named after their seed."""
    directory.mkdir(parents=True, exist_ok=True)
    return [
        make_clip(directory / f"chaos_{seed + i}.mp4", seconds=seconds, width=160, height=90, seed=seed + i)
        for i in range(count)
    ]


def ingest(state_dir: Path, clips: Sequence[Path], *, check: bool = True) -> list[str]:
    """Upload without waiting; the asset ids the CLI printed (one line per accepted file)."""
    result = rushes(state_dir, "ingest", *map(str, clips), check=check, timeout=300)
    return [m.group(0) for m in re.finditer(r"(?m)^[0-9a-f]{32}\b", result.stdout)]


@dataclass
class ExactlyOnce:
    """What "each stage's output exists exactly once" found: empty lists mean it holds."""

    not_complete: dict[str, str] = field(default_factory=dict)
    event_counts: list[str] = field(default_factory=list)
    audit_counts: list[str] = field(default_factory=list)
    object_shapes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.not_complete or self.event_counts or self.audit_counts or self.object_shapes)


class ChaosStack:
    """One running local stack and the ways a test breaks it and reads its truth."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    # --- reaching the stack ---
    @property
    def env(self) -> dict[str, str]:
        state = load_state(self.state_dir)
        assert state is not None, f"no stack under {self.state_dir}"
        return service_env(state)

    def settings(self) -> RushesSettings:
        return RushesSettings.model_validate(_nested(self.env))

    def components(self) -> dict[str, Any]:
        return dict(stack_status(self.state_dir)["components"])

    def pid(self, name: str) -> int:
        pid = self.components()[name]["pid"]
        assert isinstance(pid, int), f"{name} is not running"
        return pid

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> int:
        """Signal a component's whole process group (a server and what it forked), as a crash would."""
        pid = self.pid(name)
        os.killpg(os.getpgid(pid), sig)
        return pid

    def wait_dead(self, pid: int, timeout_s: float = 30.0) -> float:
        """Until `pid` is gone, reaped included: postgres refuses to start while the PID in its lock
        file still exists, and a crashed server's zombie lingers until init reaps it."""
        started = time.monotonic()
        while psutil.pid_exists(pid):
            assert time.monotonic() - started < timeout_s, f"pid {pid} still exists after {timeout_s}s"
            time.sleep(0.05)
        return time.monotonic() - started

    def repair(self, timeout_s: float = 120.0) -> None:
        """`rushes up` restarts whatever died, on the same ports with the same data; then wait until
        every component reports ok (`up` exits non-zero while a service is still reconnecting)."""
        deadline = time.monotonic() + timeout_s
        attempts: list[str] = []
        while True:
            result = rushes(self.state_dir, "up", timeout=240, check=False)
            attempts.append(f"exit {result.returncode}: {result.stderr.strip()[-1500:]}")
            while time.monotonic() < deadline:
                health = {name: c["health"] for name, c in self.components().items()}
                if all(h == "ok" for h in health.values()):
                    return
                if any(h == "down" for h in health.values()):
                    break  # something did not start: run `up` again
                time.sleep(0.5)
            if time.monotonic() >= deadline:
                raise AssertionError(f"stack not whole after {timeout_s}s: {health}; " + " | ".join(attempts))
            time.sleep(1.0)

    def rss_kib(self, name: str) -> tuple[int, int]:
        """(VmRSS, VmHWM) of a component's main process in KiB, from /proc."""
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{self.pid(name)}/status").read_text().splitlines()
        )
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

    def metric(self, name: str, sample: str) -> float:
        """One sample of a service's /metrics, e.g. 'rushes_consumer_redeliveries_total{stage="asr"}'."""
        import urllib.request

        url = self.components()[name]["metrics"]
        with urllib.request.urlopen(url, timeout=5) as reply:
            text = reply.read().decode()
        for line in text.splitlines():
            if line.startswith(sample + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    # --- the truth: catalog ---
    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.env["RUSHES_POSTGRES__DSN"], connect_timeout=5) as conn:
            return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]

    def statuses(self, asset_ids: Iterable[str]) -> dict[str, str]:
        ids = list(asset_ids)
        rows = self._query("SELECT asset_id, status FROM assets WHERE asset_id = ANY(%s)", [ids])
        found = {str(a): str(s) for a, s in rows}
        return {a: found.get(a, "absent") for a in ids}

    def wait_settled(self, asset_ids: Iterable[str], timeout_s: float = 180.0) -> dict[str, str]:
        """Poll the catalog until no asset is processing (or absent); returns the last statuses."""
        ids = list(asset_ids)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                found = self.statuses(ids)
            except psycopg.OperationalError:
                found = dict.fromkeys(ids, "unreachable")
            if all(s not in ("processing", "absent", "unreachable") for s in found.values()):
                return found
            if time.monotonic() > deadline:
                return found
            time.sleep(0.5)

    def audit_counts(self, asset_ids: Iterable[str]) -> Counter[tuple[str, str]]:
        rows = self._query(
            "SELECT asset_id, event_type, count(*) FROM audit_log WHERE asset_id = ANY(%s) "
            "GROUP BY asset_id, event_type",
            [list(asset_ids)],
        )
        return Counter({(str(a), str(t)): int(n) for a, t, n in rows})

    def catalog_rows(self, table: str, asset_ids: Iterable[str]) -> int:
        assert table in {"assets", "asset_stages", "audit_log"}
        return int(
            self._query(f"SELECT count(*) FROM {table} WHERE asset_id = ANY(%s)", [list(asset_ids)])[0][0]
        )

    # --- the truth: objects ---
    def store(self) -> ObjectStore:
        return ObjectStore(self.settings().s3)

    def object_keys(self, asset_id: str) -> list[str]:
        return self.store().list_keys(f"assets/{asset_id}/")

    # --- the truth: events ---
    def stream_events(self, asset_ids: Iterable[str] | None = None) -> list[tuple[str, str, bytes]]:
        """(subject, asset_id, data) of every stored event (about `asset_ids` when given)."""
        return asyncio.run(self._read_stream(None if asset_ids is None else set(asset_ids)))

    async def _read_stream(self, wanted: set[str] | None) -> list[tuple[str, str, bytes]]:
        settings = self.settings()
        bus = await EventBus.connect(settings.nats, name="chaos-test")
        try:
            info = await bus.js.stream_info(settings.nats.stream)
            last = info.state.last_seq
            out: list[tuple[str, str, bytes]] = []
            if not info.state.messages:
                return out
            sub = await bus.js.subscribe("rushes.v1.>", ordered_consumer=True, deliver_policy=None)
            try:
                while True:
                    msg = await sub.next_msg(timeout=10)
                    try:
                        asset_id = decode_event(msg.subject, msg.data).envelope.asset_id  # type: ignore[attr-defined]
                    except PoisonMessage:
                        asset_id = ""
                    if wanted is None or asset_id in wanted:
                        out.append((msg.subject, asset_id, msg.data))
                    if msg.metadata.sequence.stream >= last:
                        return out
            finally:
                await sub.unsubscribe()
        finally:
            await bus.close()

    async def publish_raw(self, subject: str, data: bytes, *, msg_id: str | None = None) -> bool:
        """Publish bytes as they are (a poison payload, a replay); True when deduplicated."""
        settings = self.settings()
        bus = await EventBus.connect(settings.nats, name="chaos-test")
        try:
            headers = {"Nats-Msg-Id": msg_id} if msg_id else None
            ack = await bus.js.publish(subject, data, headers=headers, stream=settings.nats.stream)
            return bool(ack.duplicate)
        finally:
            await bus.close()

    # --- the verdict ---
    def exactly_once(self, asset_ids: Sequence[str], reference: str | None = None) -> ExactlyOnce:
        """Every asset complete; each completion event once in the stream and once in the audit log;
        its objects the same set of keys as `reference` (an asset processed without faults)."""
        verdict = ExactlyOnce()
        statuses = self.statuses(asset_ids)
        verdict.not_complete = {a: s for a, s in statuses.items() if s != "complete"}
        events = Counter((subject, asset) for subject, asset, _ in self.stream_events(asset_ids))
        audit = self.audit_counts(asset_ids)
        for asset in asset_ids:
            for subject in COMPLETION_SUBJECTS.values():
                if events[(subject, asset)] != 1:
                    verdict.event_counts.append(f"{asset} {subject}: {events[(subject, asset)]} in stream")
                if audit[(asset, subject)] != 1:
                    verdict.audit_counts.append(f"{asset} {subject}: {audit[(asset, subject)]} audit rows")
        if reference is not None:
            shape = _key_shape(reference, self.object_keys(reference))
            for asset in asset_ids:
                mine = _key_shape(asset, self.object_keys(asset))
                missing = shape - mine
                # Content decides some objects (a QC diff map only where frames differ enough), so
                # a kind the reference lacks may appear once; any kind twice is a duplicate output.
                repeated = {kind: n for kind, n in mine.items() if n > max(shape.get(kind, 0), 1)}
                if missing or repeated:
                    verdict.object_shapes.append(f"{asset}: missing {dict(missing)}, repeated {repeated}")
        return verdict


_CONTENT_HASH = re.compile(r"[0-9a-f]{16,}")
_FRAME_NUMBER = re.compile(r"_f\d+")  # e.g. a QC diff map of the clip's worst frame: content-dependent


def _key_shape(asset_id: str, keys: Iterable[str]) -> Counter[str]:
    """Object keys with the asset id and content hashes taken out, counted: two assets' outputs
    compare equal when each kind of object exists the same number of times (a re-run that wrote a
    second report under another hash shows up as a count of 2)."""
    return Counter(
        _FRAME_NUMBER.sub("_f<n>", _CONTENT_HASH.sub("<hash>", key.replace(asset_id, "<asset>")))
        for key in keys
    )


def _nested(env: dict[str, str]) -> dict[str, Any]:
    """RUSHES_A__B=v -> {"a": {"b": v}} for RushesSettings.model_validate (no process env involved)."""
    out: dict[str, Any] = {}
    for key, value in env.items():
        if not key.startswith("RUSHES_"):
            continue
        parts = key[len("RUSHES_") :].lower().split("__")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        parsed: Any = value
        if value.startswith("["):
            parsed = json.loads(value)
        node[parts[-1]] = parsed
    return out
