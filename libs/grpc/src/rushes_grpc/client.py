"""Client channels with keepalive, message limits and a deadline on every unary call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc
from rushes_config import GrpcSettings

DEFAULT_DEADLINE_S = 30.0

Response = TypeVar("Response")


def channel_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        # Detect a dead peer (node gone, half-open TCP) in about 40 s instead of the OS's hours.
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
    ]


class DefaultDeadline(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.StreamUnaryClientInterceptor):
    """Give a unary call without a timeout the default deadline, so no call can hang forever.

    Server-streaming calls (watches, progress feeds) are left alone: they are meant to stay open.
    """

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        if details.timeout is not None:
            return details
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=self.timeout_s,
            metadata=details.metadata,
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )

    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(self._details(client_call_details), request)

    async def intercept_stream_unary(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request_iterator)


def client_channel(
    address: str,
    *,
    max_message_bytes: int | None = None,
    default_timeout_s: float = DEFAULT_DEADLINE_S,
    interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
) -> grpc.aio.Channel:
    """An insecure channel to `address` (host:port) with keepalive and the shared message limit."""
    if not address or ":" not in address:
        raise ValueError(f"gRPC address {address!r} must be host:port")
    limit = max_message_bytes or GrpcSettings.model_validate({}).max_message_bytes
    return grpc.aio.insecure_channel(
        address,
        options=channel_options(limit),
        interceptors=[DefaultDeadline(default_timeout_s), *interceptors],
    )


async def call_with_deadline(
    method: Callable[..., Awaitable[Response]],
    request: Any,
    *,
    timeout_s: float = DEFAULT_DEADLINE_S,
    **kwargs: Any,
) -> Response:
    """`await stub.Method(request, timeout=timeout_s, ...)`: an explicit deadline for one call."""
    return await method(request, timeout=timeout_s, **kwargs)
