"""`python -m rushes_ingest`: the ingest service process."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from rushes.ingest.v1 import ingest_service_pb2_grpc as pb_grpc
from rushes_config import ConfigError, RushesSettings, load_settings
from rushes_events import EventBus
from rushes_grpc import run_until_signal, start_server
from rushes_metrics import init_stage_labels, start_metrics_server
from rushes_storage import ObjectStore

from rushes_ingest.ingestor import STAGE, Ingestor
from rushes_ingest.pipeline import IngestPipeline
from rushes_ingest.servicer import IngestServicer

log = logging.getLogger("rushes_ingest")
SERVICE_NAME = "rushes.ingest.v1.IngestService"
HEALTH_INTERVAL_S = 2.0


async def _watch_dependencies(store: ObjectStore, bus: EventBus, set_serving, stop: asyncio.Event) -> None:
    """Health follows the dependencies: NOT_SERVING while the store or the bus is unreachable."""
    serving = True
    while not stop.is_set():
        ok = bus.is_connected and await asyncio.to_thread(store.ping)
        if ok != serving:
            log.warning("dependencies %s: health -> %s", "back" if ok else "down", "SERVING" if ok else "NOT_SERVING")
            set_serving(ok)
            serving = ok
        try:
            await asyncio.wait_for(stop.wait(), HEALTH_INTERVAL_S)
        except TimeoutError:
            pass


async def serve(settings: RushesSettings) -> None:
    init_stage_labels(STAGE)
    metrics_port = start_metrics_server(settings.metrics_address, settings.metrics_port)
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
        max_message_bytes=settings.grpc.max_message_bytes,
    )
    log.info("ingest serving gRPC on port %d, metrics on port %d", server.port, metrics_port)
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_dependencies(store, bus, server.set_serving, stop))
    await run_until_signal(stop)
    log.info("ingest stopping: finishing in-flight uploads (grace %.0f s)", settings.grpc.grace_s)
    await server.stop(settings.grpc.grace_s)
    await watcher
    await bus.close()


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"rushes-ingest: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
