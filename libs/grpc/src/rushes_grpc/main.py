"""service_main(): what a service's __main__ calls, so every service starts and stops the same way."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import NoReturn, Protocol

import grpc
from rushes_config import ConfigError, RushesSettings, load_settings
from rushes_metrics import start_metrics_server, stop_metrics_servers

from rushes_grpc.dependency_watch import Check, DependencyWatch
from rushes_grpc.server import start_server
from rushes_grpc.signals import run_until_signal

_log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 78  # sysexits EX_CONFIG: the configuration, not the code, is wrong

ServiceMain = Callable[[RushesSettings, asyncio.Event], Awaitable[None]]


def configure_logging(level: str, service_name: str) -> None:
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s %(levelname)s {service_name} %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def run_service(main: ServiceMain, *, service_name: str) -> int:
    """Load settings, configure logging, serve metrics, run `main(settings, stop)` until a signal.

    `main` starts its servers and consumers, waits for `stop`, then shuts them down and returns.
    Returns the process exit status: 0 after a graceful stop, EXIT_CONFIG with one line on stderr
    when the configuration is invalid, 1 when `main` fails.
    """
    program = os.path.basename(sys.argv[0]) or service_name
    try:
        settings = load_settings(service_name=service_name)
    except ConfigError as exc:
        sys.stderr.write(f"{program}: {exc}\n")
        return EXIT_CONFIG
    configure_logging(settings.log_level, service_name)
    try:
        start_metrics_server(settings.metrics_address, settings.metrics_port)
    except OSError as exc:
        sys.stderr.write(f"{program}: {exc}\n")
        return EXIT_CONFIG
    try:
        return asyncio.run(_run(main, settings))
    finally:
        stop_metrics_servers()


async def _run(main: ServiceMain, settings: RushesSettings) -> int:
    stop = asyncio.Event()
    watcher = asyncio.create_task(run_until_signal(stop), name="signals")
    try:
        await main(settings, stop)
    except ConfigError as exc:
        sys.stderr.write(f"{settings.service_name}: {exc}\n")
        return EXIT_CONFIG
    except Exception:
        _log.exception("%s failed", settings.service_name)
        return EXIT_FAILED
    finally:
        stop.set()
        await watcher
    _log.info("%s stopped", settings.service_name)
    return EXIT_OK


def service_main(main: ServiceMain, *, service_name: str) -> NoReturn:
    """`if __name__ == "__main__": service_main(serve, service_name="ingest")`."""
    sys.exit(run_service(main, service_name=service_name))


class StageConsumer(Protocol):
    """What serve_with_consumer needs of a rushes_events.Consumer."""

    async def ensure(self) -> None: ...

    async def run(self, stop: asyncio.Event) -> None: ...


async def serve_with_consumer(
    settings: RushesSettings,
    stop: asyncio.Event,
    *,
    name: str,
    service_name: str,
    register: Callable[[grpc.aio.Server], None],
    consumer: StageConsumer,
    detail: str = "",
    dependencies: Mapping[str, Check] | None = None,
) -> None:
    """A stage service's life: its gRPC API served while its event consumer runs; when `stop` is set
    the consumer stops fetching and finishes (or returns) in-flight work, then the server stops
    within the grace period. The consumer's durable is created or updated first. `dependencies`
    (name -> async check) drive gRPC health: NOT_SERVING while any is down."""
    server = await start_server(
        name=name,
        address=settings.grpc.address,
        register=register,
        service_names=[service_name],
        settings=settings.grpc,
    )
    _log.info("%s gRPC server listening on %s (%s)%s", name, server.address, service_name, detail)
    watch = DependencyWatch(dependencies or {}, server.set_serving)
    watcher = asyncio.create_task(watch.run(stop))
    try:
        await consumer.ensure()
        await consumer.run(stop)
    finally:
        stop.set()
        await watcher
        await server.stop(settings.grpc.grace_s)
