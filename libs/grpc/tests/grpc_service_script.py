"""A minimal service run by test_rushes_grpc_main through rushes_grpc.service_main (not a test)."""

from __future__ import annotations

import asyncio
import sys

from grpc_health.v1 import health_pb2
from rushes_config import RushesSettings
from rushes_grpc import service_main, start_server


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    server = await start_server(
        name=settings.service_name,
        address=settings.grpc.address,
        register=lambda s: None,
        service_names=[health_pb2.DESCRIPTOR.services_by_name["Health"].full_name],
        settings=settings.grpc,
    )
    sys.stdout.write(f"READY {server.port}\n")
    sys.stdout.flush()
    await stop.wait()
    await server.stop(settings.grpc.grace_s)


if __name__ == "__main__":
    service_main(serve, service_name="script-service")
