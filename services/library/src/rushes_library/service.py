"""Assemble the library process: migrations, gRPC, the event consumer, the database health watch.

`run_library` is what `python -m rushes_library` runs (through rushes_grpc.service_main, which also
serves metrics and turns SIGTERM into `stop`) and what the integration tests start in-process. It
returns once `stop` is set and everything has shut down in order: stop fetching, finish the event in
hand, stop gRPC with grace, close NATS and Postgres.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import grpc
import psycopg
from rushes_config import RushesSettings
from rushes_events import EventBus
from rushes_grpc import DependencyWatch, RunningServer, start_server
from rushes_inference import TritonClient
from rushes_metrics import init_review_labels

from rushes_library.catalog import Catalog
from rushes_library.consumer import CatalogEventHandler, build_consumer
from rushes_library.database import Database
from rushes_library.embedder import ShotEmbedder
from rushes_library.migrate import apply_migrations
from rushes_library.search import SearchEngine
from rushes_library.search_servicer import SEARCH_SERVICE_NAME, SearchServicer, register_search
from rushes_library.servicer import SERVICE_NAME, LibraryServicer, register
from rushes_library.text_embedding import TritonTextEmbedder
from rushes_library.version import library_version

log = logging.getLogger(__name__)

NAME = "library"
# How long a starting library waits for Postgres (it may be starting too) before giving up.
STARTUP_DB_WAIT_S = 30.0


class StartupError(RuntimeError):
    """The library cannot start; the message is one readable line."""


async def migrate_when_reachable(dsn: str, stop: asyncio.Event, *, wait_s: float = STARTUP_DB_WAIT_S) -> None:
    """Apply migrations, retrying while Postgres is unreachable for up to `wait_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        try:
            applied = await apply_migrations(dsn)
        except psycopg.OperationalError as exc:
            if loop.time() >= deadline or stop.is_set():
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise StartupError(f"catalog database unreachable after {wait_s:.0f}s: {first_line}") from exc
            log.info("waiting for the catalog database: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            continue
        log.info("catalog schema up to date (applied now: %s)", ", ".join(applied) or "none")
        return


REVIEWED_OUTPUTS = (
    "shot_type", "category", "exposure", "white_balance", "sharpness", "shakiness", "noise",
    "dominant_colors", "technical_cues", "pace", "mood", "transcript", "subtitles", "qc", "picks", "grading",
)  # fmt: skip


async def run_library(
    settings: RushesSettings,
    stop: asyncio.Event,
    *,
    on_ready: Callable[[RunningServer], None] | None = None,
    db_wait_s: float = STARTUP_DB_WAIT_S,
) -> None:
    """Run the library until `stop` is set. Raises StartupError when a dependency is missing.

    `on_ready` receives the running gRPC server (its `.address`) once events are being consumed.
    """
    await migrate_when_reachable(settings.postgres.dsn, stop, wait_s=db_wait_s)
    db = Database(settings.postgres.dsn, max_connections=settings.postgres.pool_size)
    catalog = Catalog(db, pipeline_stages=settings.pipeline_stages)
    server: RunningServer | None = None
    bus: EventBus | None = None
    triton = TritonClient(settings.triton)
    try:
        servicer = LibraryServicer(catalog)
        # Zero series for the usual outputs, so override-rate panels and alerts have data from the start.
        init_review_labels(REVIEWED_OUTPUTS)
        text_embedder = TritonTextEmbedder(triton)
        search_servicer = SearchServicer(SearchEngine(db, text_embedder))

        def register_servicer(grpc_server: grpc.aio.Server) -> None:
            register(grpc_server, servicer)
            register_search(grpc_server, search_servicer)

        server = await start_server(
            name=NAME,
            address=settings.grpc.address,
            register=register_servicer,
            service_names=[SERVICE_NAME, SEARCH_SERVICE_NAME],
            settings=settings.grpc,
        )

        bus = await EventBus.connect(settings.nats, name=NAME, version=library_version())
        await bus.ensure_stream(update=False)  # creates it if missing; changes are an operator's
        servicer.bus = bus
        consumer = build_consumer(bus, settings.nats, CatalogEventHandler(catalog))
        await consumer.ensure()
        # Reads need only the catalog database: health follows it alone (NATS outages delay events, not reads).
        watch = DependencyWatch({"postgres": catalog.ping}, server.set_serving)
        await watch.check_once()

        if on_ready is not None:
            on_ready(server)
        log.info("library ready: consuming rushes.v1.> as durable %r", consumer.durable)
        tasks = [
            asyncio.create_task(consumer.run(stop), name="library-consumer"),
            asyncio.create_task(watch.run(stop), name="library-db-watch"),
            # Without Triton the embedder waits and retries; search answers on keywords meanwhile.
            asyncio.create_task(ShotEmbedder(db, text_embedder).run(stop), name="library-embedder"),
        ]
        stopping = asyncio.create_task(stop.wait(), name="library-stop")
        await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
        if not stop.is_set():
            # A background task ended on its own: that is a fault; stop the rest and report it.
            log.error("a library task ended unexpectedly; shutting down")
            stop.set()
        log.info("stopping: finishing the event in hand")
        # consumer.run returns once the in-flight event is settled (or handed back after its grace).
        await asyncio.gather(*tasks, stopping)
    finally:
        if server is not None:
            await server.stop(settings.grpc.grace_s)
        if bus is not None:
            with contextlib.suppress(Exception):
                await bus.close()
        with contextlib.suppress(Exception):
            await triton.close()
        await db.close()
        log.info("library stopped")
