"""A LibraryService stub served through rushes_grpc.start_server for the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from grpc_testkit import LIBRARY, StubLibrary
from rushes.library.v1 import library_service_pb2_grpc as library_grpc
from rushes_config import GrpcSettings
from rushes_grpc import RunningServer, start_server


@pytest.fixture
async def library_server() -> AsyncIterator[RunningServer]:
    server = await start_server(
        name="library-test",
        address="127.0.0.1:0",
        register=lambda s: library_grpc.add_LibraryServiceServicer_to_server(StubLibrary(), s),
        service_names=[LIBRARY],
        settings=GrpcSettings(address="127.0.0.1:0", grace_s=1.0, max_message_bytes=64 * 1024),
    )
    yield server
    await server.stop(0)
