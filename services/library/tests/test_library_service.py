"""The library in-process with real nats-server and Postgres: events in, asset records out over gRPC."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import grpc
import psycopg
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from library_test_events import ingested
from rushes.events.v1 import events_pb2
from rushes.library.v1 import library_service_pb2 as pb
from rushes.library.v1 import library_service_pb2_grpc as pb_grpc
from rushes_config import GrpcSettings, PostgresSettings, RushesSettings
from rushes_events import EventBus, message_id, new_envelope
from rushes_grpc import DependencyWatch, RunningServer, start_server
from rushes_library.catalog import Catalog
from rushes_library.database import Database
from rushes_library.service import StartupError, run_library
from rushes_library.servicer import SERVICE_NAME, LibraryServicer, register
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.postgres import PostgresServer
from rushes_stack.ports import free_port

pytestmark = pytest.mark.integration

T = TypeVar("T")
WAIT_S = 30.0


class RunningLibrary:
    def __init__(
        self, server: RunningServer, dsn: str, task: asyncio.Task[None], stop: asyncio.Event
    ) -> None:
        self.server = server
        self.dsn = dsn
        self.task = task
        self.stop = stop
        self.channel = grpc.aio.insecure_channel(server.address)
        self.stub = pb_grpc.LibraryServiceStub(self.channel)


@pytest_asyncio.fixture(scope="module")
async def library(nats_server: NatsServer, postgres_server: PostgresServer) -> AsyncIterator[RunningLibrary]:
    dsn = postgres_server.fresh_database(prefix="library_svc")
    settings = RushesSettings(
        nats=nats_server.settings(),
        postgres=PostgresSettings(dsn=dsn),
        grpc=GrpcSettings(address="127.0.0.1:0", grace_s=2.0),
        pipeline_stages=["ingest"],
    )
    stop = asyncio.Event()
    ready: asyncio.Future[RunningServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_library(settings, stop, on_ready=ready.set_result))
    done, _ = await asyncio.wait({task, ready}, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        stop.set()
        await task  # surfaces the startup error
        pytest.fail("the library did not become ready")
    running = RunningLibrary(ready.result(), dsn, task, stop)
    yield running
    await running.channel.close()
    stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, timeout=WAIT_S)


@pytest_asyncio.fixture(scope="module")
async def bus(nats_server: NatsServer) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(nats_server.settings(), name="library-test", version="0")
    await bus.ensure_stream()
    yield bus
    await bus.close()


async def _eventually(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while True:
        result = await probe()
        if result is not None:
            return result
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _get_asset(library: RunningLibrary, asset_id: str) -> pb.GetAssetResponse | None:
    try:
        return await library.stub.GetAsset(
            pb.GetAssetRequest(asset_id=asset_id, include_audit=True), timeout=5
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise


def _ingested_event(asset_id: str) -> events_pb2.AssetIngested:
    event = ingested(asset_id=asset_id, project="integration")
    event.envelope.CopyFrom(
        new_envelope(
            "asset.ingested",
            asset_id=asset_id,
            producer="ingest",
            producer_version="0.1.0",
            project="integration",
        )
    )
    return event


async def test_published_ingest_is_served_over_grpc(library: RunningLibrary, bus: EventBus) -> None:
    asset_id = uuid.uuid4().hex
    event = _ingested_event(asset_id)
    await bus.publish(event, msg_id=message_id(asset_id, "ingest", "v1"))

    reply = await _eventually(lambda: _get_asset(library, asset_id), "the ingested asset")
    asset = reply.asset
    assert asset.asset_id == asset_id
    assert asset.status == "complete"
    assert asset.project == "integration"
    assert asset.source.filename == "A001_C002.mov"
    assert asset.technical.width == 1920
    assert asset.objects["original"] == f"assets/{asset_id}/original.mov"
    assert asset.stages["ingest"].status == "complete"
    assert asset.stages["ingest"].finished_at.ToDatetime() > asset.stages["ingest"].started_at.ToDatetime()
    [entry] = asset.audit
    assert entry.event_id == event.envelope.id
    assert entry.event_type == "rushes.v1.asset.ingested"

    # by prefix, and listed
    by_prefix = await library.stub.GetAsset(pb.GetAssetRequest(asset_id=asset_id[:10]), timeout=5)
    assert by_prefix.asset.asset_id == asset_id and len(by_prefix.asset.audit) == 0
    listed = await library.stub.ListAssets(
        pb.ListAssetsRequest(project="integration", status="complete"), timeout=5
    )
    assert asset_id in [a.asset_id for a in listed.assets]


async def test_redelivered_event_is_recorded_once(library: RunningLibrary, bus: EventBus) -> None:
    asset_id = uuid.uuid4().hex
    event = _ingested_event(asset_id)
    # Two different Nats-Msg-Ids defeat JetStream's dedup: the library itself must see it twice.
    await bus.publish(event, msg_id=f"first-{asset_id}")
    await bus.publish(event, msg_id=f"second-{asset_id}")
    marker = events_pb2.StageStarted(
        envelope=new_envelope(
            "asset.stage_started", asset_id=asset_id, producer="tagging", producer_version="0"
        ),
        stage="tagging",
    )
    await bus.publish(marker, msg_id=f"marker-{asset_id}")

    async def both_recorded() -> pb.GetAssetResponse | None:
        reply = await _get_asset(library, asset_id)
        return reply if reply is not None and "tagging" in reply.asset.stages else None

    reply = await _eventually(both_recorded, "the marker event after the duplicate")
    assert [e.event_type for e in reply.asset.audit] == [
        "rushes.v1.asset.ingested",
        "rushes.v1.asset.stage_started",
    ]


async def test_garbled_event_is_dead_lettered_once_without_a_loop(
    library: RunningLibrary, bus: EventBus
) -> None:
    ack = await bus.js.publish("rushes.v1.asset.ingested", b"\xff\xfe definitely not protobuf")
    garbled_seq = ack.seq

    def dead_letters() -> int:
        with psycopg.connect(library.dsn) as conn:
            row = conn.execute(
                "SELECT count(*) FROM audit_log WHERE event_type = 'rushes.v1.dlq.library'"
                " AND data->>'stream_sequence' = %s",
                (str(garbled_seq),),
            ).fetchone()
        assert row is not None
        return int(row[0])

    async def recorded() -> int | None:
        return dead_letters() or None

    assert await _eventually(recorded, "the dead letter of the garbled event") == 1
    # The dead letter itself was consumed (by the library) and not dead-lettered again.
    follow_up = uuid.uuid4().hex
    await bus.publish(_ingested_event(follow_up), msg_id=f"after-garbage-{follow_up}")
    await _eventually(lambda: _get_asset(library, follow_up), "an event published after the dead letter")
    # Other test modules share the session's stream (and may leave garbage of their own there),
    # so the loop check looks at what a loop would produce: a dead letter of a dead letter.
    with psycopg.connect(library.dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM audit_log WHERE event_type = 'rushes.v1.dlq.library'"
            " AND data->>'original_subject' LIKE 'rushes.v1.dlq.%%'"
        ).fetchone()
    assert row is not None and row[0] == 0
    assert dead_letters() == 1


async def test_health_is_serving_and_errors_map_to_codes(library: RunningLibrary) -> None:
    health = health_pb2_grpc.HealthStub(library.channel)
    for service in ("", SERVICE_NAME):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as not_found:
        await library.stub.GetAsset(pb.GetAssetRequest(asset_id="0" * 32), timeout=5)
    assert not_found.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as too_short:
        await library.stub.GetAsset(pb.GetAssetRequest(asset_id="abc"), timeout=5)
    assert too_short.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "at least 8 characters" in (too_short.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as bad_status:
        await library.stub.ListAssets(pb.ListAssetsRequest(status="finished"), timeout=5)
    assert bad_status.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_dead_database_is_unavailable_and_not_serving() -> None:
    dead = Database(f"postgresql://nobody@127.0.0.1:{free_port()}/none", connect_timeout_s=1)
    catalog = Catalog(dead, pipeline_stages=["ingest"])
    server = await start_server(
        name="library-dead-db",
        address="127.0.0.1:0",
        register=lambda s: register(s, LibraryServicer(catalog)),
        service_names=[SERVICE_NAME],
    )
    try:
        watch = DependencyWatch({"postgres": catalog.ping}, server.set_serving)
        assert await watch.check_once() is False
        async with grpc.aio.insecure_channel(server.address) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5
            )
            assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
            stub = pb_grpc.LibraryServiceStub(channel)
            for call in (
                stub.GetAsset(pb.GetAssetRequest(asset_id="0123456789abcdef"), timeout=10),
                stub.ListAssets(pb.ListAssetsRequest(), timeout=10),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as unavailable:
                    await call
                assert unavailable.value.code() == grpc.StatusCode.UNAVAILABLE
                assert "catalog database is unavailable" in (unavailable.value.details() or "")
    finally:
        await server.stop(0)
        await dead.close()


async def test_unreachable_database_at_start_is_one_readable_error(nats_server: NatsServer) -> None:
    settings = RushesSettings(
        nats=nats_server.settings(),
        postgres=PostgresSettings(dsn=f"postgresql://nobody@127.0.0.1:{free_port()}/none"),
    )
    with pytest.raises(StartupError, match=r"catalog database unreachable after 1s: connection failed"):
        await run_library(settings, asyncio.Event(), db_wait_s=1.0)


async def test_stop_returns_cleanly(library: RunningLibrary) -> None:
    """Last in the module: a set stop event ends run_library without error, well within the grace."""
    library.stop.set()
    await asyncio.wait_for(library.task, timeout=WAIT_S)
    assert library.task.exception() is None
