"""An in-process ingest service wired to the real NATS and S3 servers of the session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from rushes.ingest.v1 import ingest_service_pb2_grpc as pb_grpc
from rushes_config import MediaLimits
from rushes_events import EventBus
from rushes_grpc import client_channel, start_server
from rushes_ingest.ingestor import Ingestor
from rushes_ingest.pipeline import IngestPipeline
from rushes_ingest.servicer import IngestServicer
from rushes_storage import ObjectStore


@dataclass
class IngestHarness:
    stub: pb_grpc.IngestServiceStub
    store: ObjectStore
    bus: EventBus
    spool_dir: Path


@pytest.fixture(scope="module")
async def ingest_service(nats_server, s3_server, tmp_path_factory) -> AsyncIterator[IngestHarness]:
    bucket = f"ingest-{tmp_path_factory.mktemp('b').name.replace('_', '-')}".lower()[:40]
    store = ObjectStore(s3_server.settings(bucket=bucket))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="ingest-test")
    await bus.ensure_stream()
    spool_dir = tmp_path_factory.mktemp("spool")
    limits = MediaLimits(max_bytes=200 * 1024 * 1024)
    servicer = IngestServicer(
        Ingestor(IngestPipeline(store, limits, work_dir=spool_dir), bus, job_timeout_s=120),
        store,
        spool_dir=spool_dir,
        max_bytes=limits.max_bytes,
    )
    server = await start_server(
        name="ingest",
        address="127.0.0.1:0",
        register=lambda s: pb_grpc.add_IngestServiceServicer_to_server(servicer, s),
        service_names=["rushes.ingest.v1.IngestService"],
    )
    async with client_channel(f"127.0.0.1:{server.port}") as channel:
        yield IngestHarness(pb_grpc.IngestServiceStub(channel), store, bus, spool_dir)
    await server.stop(1.0)
    await bus.close()


def rpc_code(exc: grpc.aio.AioRpcError) -> grpc.StatusCode:
    return exc.code()
