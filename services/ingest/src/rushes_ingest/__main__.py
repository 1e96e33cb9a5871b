"""`python -m rushes_ingest`: the ingest service process.

Reads RUSHES_* settings, serves IngestService on RUSHES_GRPC__ADDRESS and metrics on
RUSHES_METRICS_PORT; SIGTERM stops accepting uploads and lets in-flight ones finish (grace
RUSHES_GRPC__GRACE_S). Health is NOT_SERVING while the object store or the event bus is down.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from rushes.ingest.v1 import ingest_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_events import EventBus
from rushes_grpc import DependencyWatch, service_main, start_server
from rushes_metrics import init_stage_labels
from rushes_storage import ObjectStore

from rushes_ingest.ingestor import STAGE, Ingestor
from rushes_ingest.pipeline import IngestPipeline
from rushes_ingest.servicer import IngestServicer

log = logging.getLogger("rushes_ingest")
SERVICE_NAME = "rushes.ingest.v1.IngestService"


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    init_stage_labels(STAGE)
    store = ObjectStore(settings.s3)
    await asyncio.to_thread(store.ensure_bucket)
    bus = await EventBus.connect(settings.nats, name="ingest")
    await bus.ensure_stream(update=False)  # creates it if missing; changes are an operator's
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
    # Health follows the dependencies: NOT_SERVING while the store or the bus is unreachable.
    watch = DependencyWatch({"nats": bus.reachable, "s3": store.reachable}, server.set_serving)
    watcher = asyncio.create_task(watch.run(stop))
    await stop.wait()
    log.info("ingest stopping: finishing in-flight uploads (grace %.0f s)", settings.grpc.grace_s)
    await server.stop(settings.grpc.grace_s)
    await watcher
    await bus.close()


def main() -> None:
    service_main(serve, service_name="ingest")


if __name__ == "__main__":
    main()
