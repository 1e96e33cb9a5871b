"""pytest plugin (loaded from pyproject's addopts): session fixtures that start real servers.

Each fixture starts its server only when a test asks for it, on free loopback ports with a temp
directory, using the same launchers as `rushes up` (rushes_stack.components). Servers die with
the pytest process even if it is killed, and are stopped (SIGTERM, then SIGKILL) at session end.
A server that fails to start fails the requesting test with the tail of its log.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.s3 import S3Server

from rushes_testing.servers import run_component


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """nats-server with JetStream and user/password auth: `.url`, `.user`, `.password`, `.settings()`."""
    data_dir = tmp_path_factory.mktemp("nats")
    yield from run_component(NatsServer.create(data_dir), data_dir / "nats.log")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS S3: `.endpoint` (host:port), `.access_key`, `.secret_key`, `.settings(bucket=...)`."""
    data_dir = tmp_path_factory.mktemp("s3")
    yield from run_component(S3Server.create(data_dir), data_dir / "s3.log")
