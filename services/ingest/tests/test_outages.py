"""A dead object store or event bus during ingest: UNAVAILABLE, and nothing left behind."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from rushes.ingest.v1 import ingest_service_pb2 as pb
from rushes.ingest.v1 import ingest_service_pb2_grpc as pb_grpc
from rushes_config import MediaLimits, S3Settings
from rushes_events import EventBus
from rushes_grpc import client_channel, start_server
from rushes_ingest.ingestor import Ingestor
from rushes_ingest.pipeline import IngestPipeline
from rushes_ingest.servicer import IngestServicer
from rushes_stack.components.nats import NatsServer
from rushes_stack.ports import free_port
from rushes_storage import ObjectStore
from rushes_testing.media import make_clip

pytestmark = pytest.mark.integration


async def _upload(path: Path) -> AsyncIterator[pb.IngestFileRequest]:
    data = path.read_bytes()
    yield pb.IngestFileRequest(header=pb.IngestFileHeader(filename=path.name, size_bytes=len(data)))
    yield pb.IngestFileRequest(chunk=data)


async def _serve(store: ObjectStore, bus, spool: Path):
    limits = MediaLimits()
    servicer = IngestServicer(
        Ingestor(IngestPipeline(store, limits, work_dir=spool), bus, job_timeout_s=60),
        store,
        spool_dir=spool,
        max_bytes=limits.max_bytes,
    )
    return await start_server(
        name="ingest-outage",
        address="127.0.0.1:0",
        register=lambda s: pb_grpc.add_IngestServiceServicer_to_server(servicer, s),
        service_names=["rushes.ingest.v1.IngestService"],
    )


def _dead_s3_settings() -> S3Settings:
    return S3Settings(endpoint=f"127.0.0.1:{free_port()}", bucket="nowhere")


async def test_dead_object_store_gives_unavailable(nats_server, tmp_path) -> None:
    dead = ObjectStore(_dead_s3_settings())
    bus = await EventBus.connect(nats_server.settings(), name="outage-s3")
    await bus.ensure_stream()
    server = await _serve(dead, bus, tmp_path)
    try:
        async with client_channel(f"127.0.0.1:{server.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await pb_grpc.IngestServiceStub(channel).IngestFile(
                    _upload(make_clip(tmp_path / "a.mp4")), timeout=60
                )
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "object store" in caught.value.details()
        assert [p for p in tmp_path.iterdir() if p.name.startswith("rushes-")] == []
    finally:
        await server.stop(1.0)
        await bus.close()


async def test_dead_event_bus_rolls_back_stored_objects(s3_server, tmp_path) -> None:
    store = ObjectStore(s3_server.settings(bucket="outage-nats"))
    store.ensure_bucket()
    nats = NatsServer.create(tmp_path / "nats")
    nats.start(tmp_path / "nats.log", die_with_parent=True)
    bus = await EventBus.connect(nats.settings(), name="outage-nats")
    await bus.ensure_stream()
    nats.stop()  # the bus dies after the service connected
    server = await _serve(store, bus, tmp_path)
    clip = make_clip(tmp_path / "b.mp4", seed=9)
    try:
        async with client_channel(f"127.0.0.1:{server.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await pb_grpc.IngestServiceStub(channel).IngestFile(_upload(clip), timeout=120)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        asset_id = hashlib.sha256(clip.read_bytes()).hexdigest()[:32]
        assert store.list_keys(f"assets/{asset_id}/") == []
    finally:
        await server.stop(1.0)
        await bus.close()
