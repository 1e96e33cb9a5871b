"""Watch the database and report it to gRPC health: NOT_SERVING while the catalog cannot answer.

Load balancers and `rushes up` read grpc.health.v1; a replica whose database is gone should stop
receiving reads until the database is back, without restarting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 2.0


class DatabaseWatch:
    def __init__(
        self,
        ping: Callable[[], Awaitable[bool]],
        on_change: Callable[[bool], None],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self._ping = ping
        self._on_change = on_change
        self._interval_s = interval_s
        self.healthy: bool | None = None

    async def check_once(self) -> bool:
        healthy = await self._ping()
        if healthy != self.healthy:
            if healthy:
                log.info("catalog database reachable: serving")
            else:
                log.warning("catalog database unreachable: health NOT_SERVING until it is back")
            self.healthy = healthy
            self._on_change(healthy)
        return healthy

    async def run(self, stop: asyncio.Event) -> None:
        """Check every interval until `stop` is set."""
        while not stop.is_set():
            await self.check_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval_s)
