"""The postgres_server fixture: PostgreSQL + pgvector on loopback with password auth."""

from __future__ import annotations

import os

import psutil
import psycopg
import pytest
from rushes_stack.components.postgres import PG_OS_USER, PostgresServer


def test_dsn_reaches_rushes_database_with_vector(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.dsn) as conn:
        database = conn.execute("SELECT current_database()").fetchone()
        version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        distance = conn.execute("SELECT '[1,0]'::vector <=> '[0,1]'::vector").fetchone()
    assert database == ("rushes",)
    assert version is not None and version[0].startswith("0.")
    assert distance == (1.0,)


def test_fresh_database_is_empty_unique_and_has_vector(
    postgres_server: PostgresServer, fresh_database: str
) -> None:
    other = postgres_server.fresh_database()
    assert other != fresh_database
    with psycopg.connect(fresh_database) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))")
        conn.execute("INSERT INTO items VALUES (1, '[1,2,3]')")
    assert tables == (0,)
    with psycopg.connect(other) as conn:
        visible = conn.execute("SELECT to_regclass('public.items')").fetchone()
    assert visible == (None,)


def test_wrong_password_is_refused(postgres_server: PostgresServer) -> None:
    bad_dsn = postgres_server.dsn.replace(postgres_server.password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad_dsn, connect_timeout=5)


def test_listens_on_loopback_only_and_not_as_root(postgres_server: PostgresServer) -> None:
    assert postgres_server.process is not None
    proc = psutil.Process(postgres_server.process.pid)
    listening = {c.laddr for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
    assert listening == {("127.0.0.1", postgres_server.port)}
    if os.geteuid() == 0:
        assert proc.username() == PG_OS_USER
    else:
        assert proc.uids().real == os.getuid()
