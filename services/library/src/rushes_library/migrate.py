"""A tiny schema migration runner: numbered SQL files applied once, in order, under an advisory lock.

Kept deliberately small and separate from the catalog so it can be replaced (Alembic, say) without
touching anything else. Each file runs in its own transaction together with its schema_migrations
row, so a failed migration leaves nothing half-applied; the session-level advisory lock makes
replicas that start together take turns instead of racing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "rushes_library"
MIGRATIONS_FOLDER = "migrations"
# pg_advisory_lock key: any constant unique to this runner ("rushes.library.migrations" as a number).
ADVISORY_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"rushes.library.migrations").digest()[:8], "big", signed=True
)
_FILENAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The migrations on disk and those recorded in the database disagree, or one failed."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover_migrations() -> list[Migration]:
    """The packaged migrations, ordered by version; malformed names or repeated versions are errors."""
    folder = resources.files(MIGRATIONS_PACKAGE).joinpath(MIGRATIONS_FOLDER)
    found: dict[str, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILENAME.match(entry.name)
        if match is None:
            raise MigrationError(f"migration file {entry.name!r} is not named NNNN_lowercase_name.sql")
        version = match["version"]
        if version in found:
            raise MigrationError(
                f"two migrations share version {version}: {found[version].name}, {entry.name}"
            )
        found[version] = Migration(version=version, name=match["name"], sql=entry.read_text("utf-8"))
    return [found[v] for v in sorted(found)]


_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def apply_migrations(dsn: str, *, connect_timeout_s: float = 10.0) -> list[str]:
    """Apply every pending migration; return the versions applied now (empty when up to date).

    Raises MigrationError when an applied migration's file has changed since (the database would
    no longer match the code) and psycopg.OperationalError when the database cannot be reached.
    """
    migrations = discover_migrations()
    async with await psycopg.AsyncConnection.connect(
        dsn, autocommit=True, connect_timeout=max(1, round(connect_timeout_s))
    ) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            await conn.execute(_CREATE_LEDGER)
            cursor = await conn.execute("SELECT version, checksum FROM schema_migrations")
            recorded = {version: checksum for version, checksum in await cursor.fetchall()}
            applied_now: list[str] = []
            for migration in migrations:
                if migration.version in recorded:
                    if recorded[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version}_{migration.name} changed after it was applied; "
                            "add a new migration instead of editing an old one"
                        )
                    continue
                try:
                    async with conn.transaction():
                        await conn.execute(migration.sql.encode())
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                            (migration.version, migration.name, migration.checksum),
                        )
                except psycopg.DatabaseError as exc:
                    if isinstance(exc, psycopg.OperationalError):
                        raise
                    raise MigrationError(
                        f"migration {migration.version}_{migration.name} failed: {exc}"
                    ) from exc
                log.info("applied migration %s_%s", migration.version, migration.name)
                applied_now.append(migration.version)
            unknown = sorted(set(recorded) - {m.version for m in migrations})
            if unknown:
                # A newer release migrated this database (a rolling upgrade in progress). Migrations
                # are additive, so older code keeps working; say so rather than refuse to start.
                log.warning("the database has migrations this release does not know: %s", unknown)
            return applied_now
        finally:
            if not conn.closed:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
