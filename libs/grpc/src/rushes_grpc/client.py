"""Client channels with keepalive, message limits and a deadline on every unary call."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import grpc
from rushes_config import GrpcSettings

from rushes_grpc.auth import ambient_token, bearer_token_interceptors

DEFAULT_DEADLINE_S = 30.0
CLIENT_CA_ENV = "RUSHES_GRPC_CLIENT_CA_FILE"

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
    token: str | None = None,
    tls_ca_file: str | None = None,
) -> grpc.aio.Channel:
    """A channel to `address` (host:port) with keepalive, the shared message limit and credentials.

    `token` (default: $RUSHES_TOKEN) goes out as `authorization: Bearer <token>` on every call;
    `tls_ca_file` (default: $RUSHES_GRPC_CLIENT_CA_FILE) turns TLS on, trusting that CA. The
    environment defaults let every caller of client_channel(address) (CLI commands, services)
    authenticate without threading credentials through each call site.
    """
    if not address or ":" not in address:
        raise ValueError(f"gRPC address {address!r} must be host:port")
    limit = max_message_bytes or GrpcSettings.model_validate({}).max_message_bytes
    chain: list[grpc.aio.ClientInterceptor] = [DefaultDeadline(default_timeout_s)]
    bearer = token if token is not None else ambient_token()
    if bearer:
        chain.extend(bearer_token_interceptors(bearer))
    chain.extend(interceptors)
    ca_file = tls_ca_file or os.environ.get(CLIENT_CA_ENV, "").strip() or None
    if ca_file is None:
        return grpc.aio.insecure_channel(address, options=channel_options(limit), interceptors=chain)
    try:
        root = Path(ca_file).read_bytes()
    except OSError as exc:
        raise ValueError(f"gRPC client CA file {ca_file}: {exc.strerror}") from None
    return grpc.aio.secure_channel(
        address, grpc.ssl_channel_credentials(root), options=channel_options(limit), interceptors=chain
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
