"""Fixtures of the library's tests: a migrated catalog database per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from rushes_library.catalog import Catalog
from rushes_library.database import Database
from rushes_library.migrate import apply_migrations
from rushes_stack.components.postgres import PostgresServer

PIPELINE = ["ingest", "tagging"]


@pytest.fixture(scope="module")
def catalog_dsn(postgres_server: PostgresServer) -> str:
    """A fresh database for this module, not yet migrated."""
    return postgres_server.fresh_database(prefix="library")


@pytest_asyncio.fixture(scope="module")
async def migrated_dsn(catalog_dsn: str) -> str:
    await apply_migrations(catalog_dsn)
    return catalog_dsn


@pytest_asyncio.fixture(scope="module")
async def database(migrated_dsn: str) -> AsyncIterator[Database]:
    db = Database(migrated_dsn, max_connections=3)
    yield db
    await db.close()


@pytest.fixture
def catalog(database: Database) -> Catalog:
    return Catalog(database, pipeline_stages=PIPELINE)
