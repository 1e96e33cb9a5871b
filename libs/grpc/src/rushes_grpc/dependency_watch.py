"""gRPC health that follows a service's dependencies: NOT_SERVING while any of them is unreachable.

Load balancers, Kubernetes readiness probes and `rushes status` read grpc.health.v1; a replica
whose bus, object store or model server is gone should stop receiving work until it is back,
without restarting (the consumer keeps its place in the stream meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 2.0
Check = Callable[[], Awaitable[bool]]


class DependencyWatch:
    """`checks`: dependency name -> async check (True when usable; an exception counts as down)."""

    def __init__(
        self,
        checks: Mapping[str, Check],
        on_change: Callable[[bool], None],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        check_timeout_s: float = 5.0,
    ) -> None:
        self._checks = dict(checks)
        self._on_change = on_change
        self._interval_s = interval_s
        self._check_timeout_s = check_timeout_s
        self.healthy: bool | None = None
        self.down: list[str] = []

    async def _probe(self, check: Check) -> bool:
        try:
            return bool(await asyncio.wait_for(check(), self._check_timeout_s))
        except Exception:  # a dependency check must never take the service down with it
            return False

    async def check_once(self) -> bool:
        results = {name: await self._probe(check) for name, check in self._checks.items()}
        self.down = sorted(name for name, ok in results.items() if not ok)
        healthy = not self.down
        if healthy != self.healthy:
            if healthy:
                log.info("dependencies reachable: health SERVING")
            else:
                log.warning("unreachable: %s: health NOT_SERVING until they are back", ", ".join(self.down))
            self.healthy = healthy
            self._on_change(healthy)
        return healthy

    async def run(self, stop: asyncio.Event) -> None:
        """Check every interval until `stop` is set."""
        while not stop.is_set():
            await self.check_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval_s)
