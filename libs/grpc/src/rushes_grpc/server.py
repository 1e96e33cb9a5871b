"""start_server(): an asyncio gRPC server with health, reflection and metrics already wired."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from rushes_config import ConfigError, GrpcSettings

from rushes_grpc.auth import AuthConfigError, AuthInterceptor, TokenStore
from rushes_grpc.health import HealthServicer
from rushes_grpc.interceptor import MetricsInterceptor

_log = logging.getLogger(__name__)

HEALTH_SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


def server_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        # Without this, a second server on a taken port binds "successfully" and steals half the calls.
        ("grpc.so_reuseport", 0),
        # Accept the keepalive pings client_channel() sends (the default policy answers pings more
        # frequent than every 5 minutes with GOAWAY "too_many_pings").
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ]


@dataclass
class RunningServer:
    """A started server: its bound port, its health servicer and how to stop it."""

    server: grpc.aio.Server
    name: str
    host: str
    port: int
    health: HealthServicer
    service_names: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        """host:port a client on this machine can dial."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "[::]", "::") else self.host
        return f"{host}:{self.port}"

    def set_serving(self, serving: bool) -> None:
        """Flip every service's health (and the overall "" entry), e.g. when a dependency goes down."""
        self.health.set_all(serving)
        _log.log(
            logging.INFO if serving else logging.WARNING,
            "%s health: %s",
            self.name,
            "SERVING" if serving else "NOT_SERVING",
        )

    async def stop(self, grace_s: float) -> None:
        """Report NOT_SERVING, refuse new calls, let in-flight ones finish for up to grace_s seconds."""
        self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)
        _log.info("%s gRPC server stopped", self.name)


def _read_pem(setting: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"RUSHES_GRPC__{setting.upper()}: cannot read {path}: {exc.strerror}") from None


def server_credentials(settings: GrpcSettings) -> grpc.ServerCredentials | None:
    """TLS credentials when a certificate is configured (mTLS with tls_client_ca_file); else None."""
    if not (settings.tls_cert_file and settings.tls_key_file):
        return None
    pair = (
        _read_pem("tls_key_file", settings.tls_key_file),
        _read_pem("tls_cert_file", settings.tls_cert_file),
    )
    client_ca = (
        _read_pem("tls_client_ca_file", settings.tls_client_ca_file) if settings.tls_client_ca_file else None
    )
    return grpc.ssl_server_credentials(
        [pair], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def _split_host(address: str) -> str:
    host, _, _ = address.rpartition(":")
    return host


async def start_server(
    *,
    name: str,
    address: str,
    register: Callable[[grpc.aio.Server], None],
    service_names: list[str],
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    settings: GrpcSettings | None = None,
) -> RunningServer:
    """Start a server on `address` ("127.0.0.1:0" picks a free port) and return it running.

    `register` adds the service's servicers; `service_names` are their full names, each reported
    SERVING by the standard health service (with "") and listed by reflection. The metrics
    interceptor runs first, so it also times the interceptors given here.
    """
    grpc_settings = settings or GrpcSettings.model_validate({})
    if not service_names:
        raise ValueError("service_names must list the full names of the services being served")
    chain: list[grpc.aio.ServerInterceptor] = [MetricsInterceptor()]
    if grpc_settings.auth_tokens_file:
        try:
            store = TokenStore.load(grpc_settings.auth_tokens_file)
        except AuthConfigError as exc:
            raise ConfigError(f"RUSHES_GRPC__AUTH_TOKENS_FILE: {exc}") from None
        # After metrics (refusals are counted by code), before the caller's interceptors.
        chain.append(AuthInterceptor(store))
    server = grpc.aio.server(
        interceptors=[*chain, *interceptors],
        options=server_options(grpc_settings.max_message_bytes),
    )
    register(server)
    health = HealthServicer(service_names)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        [*service_names, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    try:
        credentials = server_credentials(grpc_settings)
        if credentials is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, credentials)
    except RuntimeError as exc:
        raise OSError(f"gRPC server {name!r} cannot listen on {address}: {exc}") from None
    if not port:
        raise OSError(f"gRPC server {name!r} cannot listen on {address}")
    await server.start()
    running = RunningServer(
        server=server,
        name=name,
        host=_split_host(address),
        port=port,
        health=health,
        service_names=list(service_names),
    )
    _log.info(
        "%s gRPC server listening on %s (%s; tls %s, auth %s)",
        name,
        running.address,
        ", ".join(service_names),
        "on" if credentials is not None else "off",
        "on" if grpc_settings.auth_tokens_file else "off",
    )
    return running
