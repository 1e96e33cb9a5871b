"""run_component: the fixture body shared by every server fixture."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rushes_stack.components.base import Component, LaunchCommand
from rushes_stack.ports import LOOPBACK, free_port, tcp_open
from rushes_testing.servers import run_component


@dataclass
class Listener(Component):
    port: int
    fail: bool = False
    name: str = "listener"

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def ports(self) -> dict[str, int]:
        return {"main": self.port}

    def command(self) -> LaunchCommand:
        if self.fail:
            script = "print('listener: cannot open /etc/listener.conf', flush=True); raise SystemExit(2)"
        else:
            script = (
                "import socket, time\n"
                f"s = socket.socket(); s.bind(('127.0.0.1', {self.port})); s.listen()\n"
                "time.sleep(60)\n"
            )
        return LaunchCommand(argv=[sys.executable, "-c", script])

    def ready(self) -> bool:
        return tcp_open(LOOPBACK, self.port)


def test_yields_a_started_component_and_stops_it_afterwards(tmp_path: Path) -> None:
    body = run_component(Listener(port=free_port()), tmp_path / "listener.log")
    component = next(body)
    assert component.process is not None
    handle = component.process
    assert handle.is_alive() and component.ready()
    body.close()  # what pytest does at teardown
    assert not handle.is_alive()
    assert component.process is None


def test_start_failure_fails_the_test_with_the_log(tmp_path: Path) -> None:
    body = run_component(Listener(port=free_port(), fail=True), tmp_path / "listener.log")
    with pytest.raises(
        pytest.fail.Exception, match=r"(?s)listener failed to start.*cannot open /etc/listener.conf"
    ):
        next(body)
