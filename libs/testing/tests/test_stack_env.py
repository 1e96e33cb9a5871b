"""stack_env gives a complete RushesSettings configuration pointing at the session's servers."""

from __future__ import annotations

import psycopg
import pytest
from rushes_config import load_settings
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.s3 import S3Server


def test_stack_env_loads_as_settings(
    stack_env: dict[str, str],
    nats_server: NatsServer,
    s3_server: S3Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in stack_env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.nats.url == nats_server.url
    assert settings.nats.user == nats_server.user
    assert settings.nats.password is not None
    assert settings.nats.password.get_secret_value() == nats_server.password
    assert settings.s3.endpoint == s3_server.endpoint
    assert settings.s3.secret_key.get_secret_value() == s3_server.secret_key
    assert settings.s3.bucket.startswith("test-")
    assert settings.grpc.address == "127.0.0.1:0"
    with psycopg.connect(settings.postgres.dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert "RUSHES_TRITON__URL" not in stack_env


_SEEN: set[str] = set()


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_its_own_bucket_and_database(stack_env: dict[str, str], run: int) -> None:
    bucket = stack_env["RUSHES_S3__BUCKET"]
    database = stack_env["RUSHES_POSTGRES__DSN"].rsplit("/", 1)[1]
    assert database.startswith("test_")
    assert bucket not in _SEEN and database not in _SEEN, f"run {run} reused {bucket} / {database}"
    _SEEN.update((bucket, database))
