"""Loopback ports: pick free ones, wait until one accepts connections."""

from __future__ import annotations

import random
import socket
import threading
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"


# Listening ports come from below the kernel's ephemeral range: a port picked from inside it can be
# taken as the source port of some outgoing connection (our own health probes, say) between the
# moment we pick it and the moment the server binds it.
_LOWEST_PORT = 20000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# Ports this process handed out already: two components of one stack never get the same port
# even before either has bound it.
_handed_out: set[int] = set()
_lock = threading.Lock()


def _candidate_range() -> range:
    try:
        low = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(_LOWEST_PORT, max(low, _LOWEST_PORT + 1000))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports, free now and never handed out before by this process."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    candidates = _candidate_range()
    chosen: list[int] = []
    with _lock:
        for _ in range(count * 200):
            if len(chosen) == count:
                break
            port = random.choice(candidates)
            if port in _handed_out or not port_free(port):
                continue
            _handed_out.add(port)
            chosen.append(port)
    if len(chosen) < count:
        raise OSError(
            f"could not find {count} free loopback ports in {candidates.start}-{candidates.stop - 1}"
        )
    return chosen


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


def port_free(port: int, host: str = LOOPBACK) -> bool:
    """True when a server could listen on host:port now (SO_REUSEADDR, as servers bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
