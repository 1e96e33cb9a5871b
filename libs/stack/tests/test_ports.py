"""Free ports and TCP waits on loopback."""

from __future__ import annotations

import socket
import time

import pytest
from rushes_stack.ports import LOOPBACK, free_port, free_ports, port_free, tcp_open, wait_tcp


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(12)
    assert len(set(ports)) == 12
    assert all(port_free(p) for p in ports)
    assert 0 < free_port() < 65536


def test_free_ports_rejects_negative_count() -> None:
    with pytest.raises(ValueError, match="count must be >= 0"):
        free_ports(-1)


def test_wait_tcp_sees_a_listener_and_times_out_without_one() -> None:
    with socket.socket() as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not port_free(port)
        assert tcp_open(LOOPBACK, port)
        assert wait_tcp(LOOPBACK, port, timeout=1.0)
    started = time.monotonic()
    assert not wait_tcp(LOOPBACK, port, timeout=0.3)
    assert time.monotonic() - started >= 0.3
