"""asyncio gRPC bootstrap (health, reflection, metrics, graceful stop) and client channels with deadlines."""

from rushes_grpc.auth import (
    METHOD_ROLES,
    AuthConfigError,
    AuthInterceptor,
    BearerTokenInterceptor,
    Principal,
    Role,
    TokenStore,
    current_principal,
    required_role,
)
from rushes_grpc.client import DEFAULT_DEADLINE_S, DefaultDeadline, call_with_deadline, client_channel
from rushes_grpc.dependency_watch import DependencyWatch
from rushes_grpc.health import HealthServicer
from rushes_grpc.interceptor import MetricsInterceptor
from rushes_grpc.main import EXIT_CONFIG, configure_logging, run_service, serve_with_consumer, service_main
from rushes_grpc.server import RunningServer, start_server
from rushes_grpc.signals import install_signal_handlers, run_until_signal
from rushes_grpc.stage import StageConnections, stage_connections

__all__ = [
    "DEFAULT_DEADLINE_S",
    "EXIT_CONFIG",
    "METHOD_ROLES",
    "AuthConfigError",
    "AuthInterceptor",
    "BearerTokenInterceptor",
    "DefaultDeadline",
    "DependencyWatch",
    "HealthServicer",
    "MetricsInterceptor",
    "Principal",
    "Role",
    "RunningServer",
    "StageConnections",
    "TokenStore",
    "call_with_deadline",
    "client_channel",
    "configure_logging",
    "current_principal",
    "install_signal_handlers",
    "required_role",
    "run_service",
    "run_until_signal",
    "serve_with_consumer",
    "service_main",
    "stage_connections",
    "start_server",
]
