"""Event bus: publish-to-consume latency through rushes_events vs raw nats-py, on one nats-server.

Ours: `EventBus.publish` (stream ack awaited, Nats-Msg-Id, subject/class checks) of an
AssetIngested, delivered by a `Consumer` (durable pull consumer, protobuf decode, envelope copy,
metrics) to a handler. Peer: nats-py `js.publish` of the same bytes with a Nats-Msg-Id header to a
stream of the same kind (file storage, same duplicate window) and a raw `pull_subscribe` + `fetch(1)`
loop. Both run in this process on the same server; the latency is handler/receipt time minus the
time just before the publish call.

Messages are paced (one at a time, a short pause after each delivery) so the figure is the latency
of a lightly loaded bus, not a queue length; ours and the peer alternate in blocks so machine noise
hits both. Target: p50 ratio <= 1.5.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import nats
from nats.js.api import StorageType, StreamConfig
from rushes.events.v1.events_pb2 import AssetIngested
from rushes_config import NatsSettings
from rushes_events import Consumer, Delivery, EventBus, new_envelope, subject_for
from rushes_stack.components.nats import NatsServer

TARGET_RATIO = 1.5
PEER_STREAM = "BENCHPEER"
PEER_SUBJECT = "benchpeer.asset.ingested"
PAUSE_S = 0.005  # after each delivery, so both consumers are back in fetch before the next publish
WARMUP = 20


def _event(index: int) -> AssetIngested:
    event = AssetIngested(
        envelope=new_envelope(
            "asset.ingested",
            asset_id=f"{index:016x}",
            producer="bench",
            producer_version="0",
            project="bench",
        )
    )
    return event


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class _Clock:
    """Matches each delivery to the moment its publish started."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.latencies_ms: list[float] = []
        self.arrived = asyncio.Event()

    def received(self, key: str) -> None:
        start = self.sent.pop(key, None)
        if start is not None:
            self.latencies_ms.append((time.perf_counter() - start) * 1000.0)
        self.arrived.set()


async def _paced(
    clock: _Clock, count: int, publish: Callable[[int, str], Awaitable[None]], first: int
) -> list[float]:
    before = len(clock.latencies_ms)
    for index in range(first, first + count):
        key = f"{index:016x}"
        clock.arrived.clear()
        clock.sent[key] = time.perf_counter()
        await publish(index, key)
        await asyncio.wait_for(clock.arrived.wait(), timeout=10)
        await asyncio.sleep(PAUSE_S)
    return clock.latencies_ms[before:]


class _Ours:
    def __init__(self, settings: NatsSettings) -> None:
        self.settings = settings
        self.clock = _Clock()
        self.stop = asyncio.Event()

    async def start(self) -> None:
        self.bus = await EventBus.connect(self.settings, name="bench-events-ours")
        await self.bus.ensure_stream()

        async def handler(delivery: Delivery) -> None:
            self.clock.received(delivery.envelope.asset_id)

        consumer = Consumer(
            self.bus,
            stage="bench",
            durable="bench_events",
            filter_subjects=[subject_for("asset.ingested")],
            handler=handler,
            settings=self.settings,
        )
        await consumer.ensure()
        self.task = asyncio.create_task(consumer.run(self.stop))

    async def publish(self, index: int, _key: str) -> None:
        await self.bus.publish(_event(index), msg_id=f"bench:{index}")

    async def close(self) -> None:
        self.stop.set()
        await self.task
        await self.bus.close()


class _Peer:
    def __init__(self, settings: NatsSettings) -> None:
        self.settings = settings
        self.clock = _Clock()
        self.stop = asyncio.Event()

    async def start(self) -> None:
        password = self.settings.password.get_secret_value() if self.settings.password else ""
        self.nc = await nats.connect(self.settings.url, user=self.settings.user, password=password)
        self.js = self.nc.jetstream()
        await self.js.add_stream(
            StreamConfig(
                name=PEER_STREAM,
                subjects=["benchpeer.>"],
                storage=StorageType.FILE,
                duplicate_window=self.settings.duplicate_window_s,
            )
        )
        self.sub = await self.js.pull_subscribe(PEER_SUBJECT, durable="bench_peer", stream=PEER_STREAM)
        self.task = asyncio.create_task(self._fetch_loop())

    async def _fetch_loop(self) -> None:
        while not self.stop.is_set():
            try:
                msgs = await self.sub.fetch(1, timeout=2.0)
            except nats.errors.TimeoutError:
                continue
            for msg in msgs:
                self.clock.received(msg.headers.get("Bench-Key", "") if msg.headers else "")
                await msg.ack()

    async def publish(self, index: int, key: str) -> None:
        await self.js.publish(
            PEER_SUBJECT,
            _event(index).SerializeToString(),
            stream=PEER_STREAM,
            headers={"Nats-Msg-Id": f"peer:{index}", "Bench-Key": key},
        )

    async def close(self) -> None:
        self.stop.set()
        await self.task
        await self.sub.unsubscribe()
        await self.nc.close()  # every message was acked already: nothing to drain


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 3),
        "p95_ms": round(percentile(values, 0.95), 3),
        "mean_ms": round(statistics.fmean(values), 3),
    }


async def _measure(settings: NatsSettings, messages: int, blocks: int) -> dict[str, object]:
    ours, peer = _Ours(settings), _Peer(settings)
    await ours.start()
    await peer.start()
    try:
        await _paced(ours.clock, WARMUP, ours.publish, first=0)
        await _paced(peer.clock, WARMUP, peer.publish, first=0)
        ours_ms: list[float] = []
        peer_ms: list[float] = []
        per_block = max(1, messages // blocks)
        for block in range(blocks):
            first = WARMUP + block * per_block
            sides: list[tuple[_Ours | _Peer, list[float]]] = [(ours, ours_ms), (peer, peer_ms)]
            for side, sink in sides if block % 2 == 0 else reversed(sides):
                sink += await _paced(side.clock, per_block, side.publish, first=first)
    finally:
        await ours.close()
        await peer.close()
    ours_sum, peer_sum = _summary(ours_ms), _summary(peer_ms)
    ratio = ours_sum["p50_ms"] / peer_sum["p50_ms"]
    return {
        "messages_per_side": len(ours_ms),
        "payload_bytes": _event(0).ByteSize(),
        "pause_after_delivery_ms": PAUSE_S * 1000,
        "rushes_events": ours_sum,
        "nats_py_raw": peer_sum,
        "ratio": round(ratio, 3),
        "p95_ratio": round(ours_sum["p95_ms"] / peer_sum["p95_ms"], 3),
        "target": f"p50 ratio <= {TARGET_RATIO}",
        "meets_target": ratio <= TARGET_RATIO,
        "rows": [
            {
                "figure": "event bus publish-to-consume p50 (ms)",
                "ours": ours_sum["p50_ms"],
                "peer": peer_sum["p50_ms"],
                "ratio": round(ratio, 3),
                "target": f"<= {TARGET_RATIO}",
                "met": ratio <= TARGET_RATIO,
            },
            {
                "figure": "event bus publish-to-consume p95 (ms)",
                "ours": ours_sum["p95_ms"],
                "peer": peer_sum["p95_ms"],
                "ratio": round(ours_sum["p95_ms"] / peer_sum["p95_ms"], 3),
                "target": "",
                "met": None,
            },
        ],
    }


def run(*, quick: bool = False) -> dict[str, object]:
    messages, blocks = (200, 4) if quick else (2000, 10)
    with tempfile.TemporaryDirectory(prefix="rushes-bench-nats-") as tmp:
        server = NatsServer.create(Path(tmp))
        server.start(Path(tmp) / "nats.log", die_with_parent=True)
        try:
            return asyncio.run(_measure(server.settings(), messages, blocks))
        finally:
            server.stop()
