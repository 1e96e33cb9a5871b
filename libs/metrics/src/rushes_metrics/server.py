"""The /metrics HTTP endpoint every process exposes."""

from __future__ import annotations

import logging
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

_log = logging.getLogger(__name__)
_servers: list[tuple[WSGIServer, threading.Thread]] = []
_lock = threading.Lock()


def start_metrics_server(address: str, port: int) -> int:
    """Serve the default registry (process_* collectors included) on address:port; return the bound port.

    Port 0 lets the OS pick a free port, which is how the local stack and tests run many processes
    side by side. Raises OSError with the address when the port cannot be bound.
    """
    if not 0 <= port <= 65535:
        raise ValueError(f"metrics port {port} is outside 0..65535")
    try:
        server, thread = start_http_server(port, addr=address)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot serve metrics on {address}:{port}: {exc.strerror}") from exc
    with _lock:
        _servers.append((server, thread))
    bound = int(server.server_port)
    _log.info("metrics served on http://%s:%d/metrics", address, bound)
    return bound


def stop_metrics_servers() -> None:
    """Shut down every endpoint this process started (tests and orderly process exit)."""
    with _lock:
        servers = list(_servers)
        _servers.clear()
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
