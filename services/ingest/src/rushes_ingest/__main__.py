"""`python -m rushes_ingest`: the ingest service process.

Reads RUSHES_* settings, serves IngestService on RUSHES_GRPC__ADDRESS and metrics on
RUSHES_METRICS_PORT; SIGTERM stops accepting uploads and lets in-flight ones finish (grace
RUSHES_GRPC__GRACE_S). Health is NOT_SERVING while the object store or the event bus is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from rushes.ingest.v1 import ingest_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_events import EventBus
from rushes_grpc import service_main, start_server
from rushes_metrics import init_stage_labels
from rushes_storage import ObjectStore

from rushes_ingest.ingestor import STAGE, Ingestor
from rushes_ingest.pipeline import IngestPipeline
from rushes_ingest.servicer import IngestServicer

log = logging.getLogger("rushes_ingest")
SERVICE_NAME = "rushes.ingest.v1.IngestService"
HEALTH_INTERVAL_S = 2.0


async def _watch_dependencies(
    store: ObjectStore, bus: EventBus, set_serving: Callable[[bool], None], stop: asyncio.Event
) -> None:
    """Health follows the dependencies: NOT_SERVING while the store or the bus is unreachable."""
    serving = True
    while not stop.is_set():
        ok = bus.is_connected and await asyncio.to_thread(store.ping)
        if ok != serving:
            log.warning(
                "dependencies %s: health %s", "back" if ok else "down", "SERVING" if ok else "NOT_SERVING"
            )
            set_serving(ok)
            serving = ok
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HEALTH_INTERVAL_S)


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    init_stage_labels(STAGE)
    store = ObjectStore(settings.s3)
    await asyncio.to_thread(store.ensure_bucket)
    bus = await EventBus.connect(settings.nats, name="ingest")
    await bus.ensure_stream()
    spool_dir = Path(settings.state_dir) / "spool" / "ingest"
    spool_dir.mkdir(parents=True, exist_ok=True)
    pipeline = IngestPipeline(store, settings.limits, work_dir=spool_dir)
    ingestor = Ingestor(pipeline, bus, job_timeout_s=settings.limits.job_timeout_s)
    servicer = IngestServicer(ingestor, store, spool_dir=spool_dir, max_bytes=settings.limits.max_bytes)
    server = await start_server(
        name="ingest",
        address=settings.grpc.address,
        register=lambda s: pb_grpc.add_IngestServiceServicer_to_server(servicer, s),
        service_names=[SERVICE_NAME],
        settings=settings.grpc,
    )
    log.info("ingest gRPC server listening on %s (%s)", server.address, SERVICE_NAME)
    watcher = asyncio.create_task(_watch_dependencies(store, bus, server.set_serving, stop))
    await stop.wait()
    log.info("ingest stopping: finishing in-flight uploads (grace %.0f s)", settings.grpc.grace_s)
    await server.stop(settings.grpc.grace_s)
    await watcher
    await bus.close()


def main() -> None:
    service_main(serve, service_name="ingest")


if __name__ == "__main__":
    main()
