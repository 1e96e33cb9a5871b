"""A few reusable async Postgres connections, and one exception for "the database is not there".

psycopg_pool is not among the locked dependencies; the library needs only a handful of connections
(one for the consumer, a few for gRPC reads), so a semaphore over a list of idle connections does
the job. Broken connections are dropped and replaced on the next use, which is what lets the service
come back by itself after a database outage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, dict_row

log = logging.getLogger(__name__)

AsyncConn = psycopg.AsyncConnection[DictRow]


class CatalogUnavailable(RuntimeError):
    """The database cannot be reached or dropped the connection; retrying later may succeed."""


# Errors that say nothing about the request and everything about the server or the network.
_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    OSError,
    TimeoutError,
)


def is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, (*_UNAVAILABLE_ERRORS, CatalogUnavailable))


class Database:
    """At most `max_connections` connections to one DSN, opened lazily and reused."""

    def __init__(
        self,
        dsn: str,
        *,
        max_connections: int = 4,
        connect_timeout_s: float = 5.0,
        statement_timeout_s: float = 30.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._dsn = dsn
        self._connect_timeout = max(1, round(connect_timeout_s))
        self._statement_timeout_ms = int(statement_timeout_s * 1000)
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[AsyncConn] = []
        self._closed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConn]:
        """A connection for one unit of work; raises CatalogUnavailable when the database is down.

        Any transaction left open is rolled back before the connection goes back to the idle list.
        """
        if self._closed:
            raise CatalogUnavailable("the catalog database handle is closed")
        async with self._slots:
            conn = await self._take()
            try:
                yield conn
            except BaseException as exc:
                if isinstance(exc, asyncio.CancelledError):
                    # Cancelled mid-query: the protocol state is unknown, so never reuse it.
                    await _close_quietly(conn)
                    raise
                await self._give_back(conn)
                if is_unavailable(exc) and not isinstance(exc, CatalogUnavailable):
                    raise CatalogUnavailable(f"catalog database unavailable: {_one_line(exc)}") from exc
                raise
            else:
                await self._give_back(conn)

    async def ping(self, timeout_s: float = 5.0) -> bool:
        """True when a trivial query round-trips in time; never raises for an unreachable database."""
        try:
            async with asyncio.timeout(timeout_s), self.connection() as conn:
                await conn.execute("SELECT 1")
            return True
        except (CatalogUnavailable, TimeoutError):
            return False

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()

    async def _take(self) -> AsyncConn:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and not conn.broken:
                return conn
        try:
            return await psycopg.AsyncConnection.connect(
                self._dsn,
                row_factory=dict_row,
                connect_timeout=self._connect_timeout,
                options=f"-c statement_timeout={self._statement_timeout_ms}",
            )
        except _UNAVAILABLE_ERRORS as exc:
            raise CatalogUnavailable(f"catalog database unavailable: {_one_line(exc)}") from exc

    async def _give_back(self, conn: AsyncConn) -> None:
        if conn.closed or conn.broken or self._closed:
            await _close_quietly(conn)
            return
        try:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.rollback()
        except _UNAVAILABLE_ERRORS:
            await _close_quietly(conn)
            return
        self._idle.append(conn)


async def _close_quietly(conn: AsyncConn) -> None:
    try:
        await conn.close()
    except Exception:  # closing a dead connection has nothing useful to report
        log.debug("error closing a broken connection", exc_info=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
