"""grpc.health.v1 servicer whose status can be flipped synchronously from anywhere in the loop.

grpc_health's own asyncio servicer only offers `async def set`, which a dependency watcher running
in a sync callback cannot call; this one keeps the same wire behaviour (Check answers NOT_FOUND for
an unknown service, Watch streams SERVICE_UNKNOWN then every change) with a sync `set`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
OVERALL = ""


class HealthServicer(health_pb2_grpc.HealthServicer):
    def __init__(self, service_names: Iterable[str] = ()) -> None:
        self._status: dict[str, health_pb2.HealthCheckResponse.ServingStatus.ValueType] = {OVERALL: SERVING}
        for name in service_names:
            self._status[name] = SERVING
        self._changed = asyncio.Event()
        self._shutting_down = False

    def status(self, service: str = OVERALL) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
        return self._status.get(service, SERVICE_UNKNOWN)

    def set(self, service: str, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> None:
        """Set one service's status (ignored once shutting down: a draining server stays NOT_SERVING)."""
        if self._shutting_down:
            return
        self._apply({service: status})

    def set_all(self, serving: bool) -> None:
        """Flip every known service, the overall "" entry included."""
        if self._shutting_down:
            return
        status = SERVING if serving else NOT_SERVING
        self._apply(dict.fromkeys(self._status, status))

    def enter_graceful_shutdown(self) -> None:
        """NOT_SERVING for good, so load balancers stop sending new calls while in-flight ones finish."""
        self._apply(dict.fromkeys(self._status, NOT_SERVING))
        self._shutting_down = True

    def _apply(self, updates: dict[str, health_pb2.HealthCheckResponse.ServingStatus.ValueType]) -> None:
        self._status.update(updates)
        # Wake every Watch stream; each re-reads its status and sends it if it changed.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        status = self._status.get(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=status)

    async def Watch(  # type: ignore[override]
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[health_pb2.HealthCheckResponse]:
        last: int | None = None
        while True:
            changed = self._changed
            status = self.status(request.service)
            if status != last:
                yield health_pb2.HealthCheckResponse(status=status)
                last = status
            await changed.wait()
