"""pytest plugin (loaded from pyproject's addopts): session fixtures that start real servers.

Each fixture starts its server only when a test asks for it, on free loopback ports with a temp
directory, using the same launchers as `rushes up` (rushes_stack.components). Servers die with
the pytest process even if it is killed, and are stopped (SIGTERM, then SIGKILL) at session end.
A server that fails to start fails the requesting test with the tail of its log.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.postgres import PostgresServer
from rushes_stack.components.s3 import S3Server
from rushes_stack.components.tritonserver import TritonServer

from rushes_testing.env import settings_env
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """PostgreSQL 18 + pgvector: `.dsn` (database `rushes`), `.fresh_database()` -> DSN of a new one.

    Its folder is made under /tmp rather than pytest's 0700 base temp: as root the server runs
    as the `rushes-pg` user, which must be able to reach it. fsync is off (throw-away cluster).
    """
    data_dir = Path(tempfile.mkdtemp(prefix="rushes-pg-"))
    try:
        yield from run_component(
            PostgresServer.create(data_dir / "cluster", durable=False), data_dir / "postgres.log"
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def fresh_database(postgres_server: PostgresServer) -> str:
    """DSN of an empty database (vector extension installed) created for this test alone."""
    return postgres_server.fresh_database()


@pytest.fixture(scope="session")
def triton_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TritonServer]:
    """tritonserver (CPU, Python backend) serving the repository's `models/`; every model is ready.

    `.grpc_url` (host:port, for TritonSettings.url), `.http_url`, `.model_status()`.
    """
    model_repo = pytestconfig.rootpath / "models"
    if not model_repo.is_dir():
        pytest.fail(f"triton_server: model repository {model_repo} does not exist", pytrace=False)
    work_dir = tmp_path_factory.mktemp("triton")
    yield from run_component(TritonServer.create(work_dir, model_repo), work_dir / "triton.log")


@pytest.fixture
def stack_env(
    request: pytest.FixtureRequest,
    nats_server: NatsServer,
    s3_server: S3Server,
    postgres_server: PostgresServer,
) -> dict[str, str]:
    """RUSHES_* environment for a service under test, reaching the session's servers.

    Each test gets its own database and its own bucket name (not created: services ensure it).
    Triton is included only when the test also requests `triton_server` (it is slow to start).
    """
    triton = request.getfixturevalue("triton_server") if "triton_server" in request.fixturenames else None
    return settings_env(
        nats=nats_server,
        s3=s3_server,
        postgres_dsn=postgres_server.fresh_database(),
        triton=triton,
        bucket=f"test-{secrets.token_hex(6)}",
    )
