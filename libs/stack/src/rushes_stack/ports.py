"""Loopback ports: pick free ones, wait until one accepts connections."""

from __future__ import annotations

import contextlib
import socket
import time

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (the kernel picks it)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports.

    All sockets stay bound until every port is chosen, so the kernel cannot hand the same port out
    twice within one call (a server with many listeners, like SeaweedFS, needs that).
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((LOOPBACK, 0))
            ports.append(sock.getsockname()[1])
        return ports


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts a TCP connection on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_tcp(host: str, port: int, timeout: float) -> bool:
    """Poll host:port until it accepts a connection; False once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if tcp_open(host, port):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
