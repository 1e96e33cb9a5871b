"""`python -m rushes_events.stream_setup` (the chart's hook job, what `rushes up` runs) against a
real nats-server: it applies the stream settings, and says in one line why when it cannot."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rushes_events import EventBus
from rushes_events.stream_setup import main
from rushes_stack.components.nats import NatsServer
from rushes_stack.ports import free_port

pytestmark = pytest.mark.integration


def _env(monkeypatch: pytest.MonkeyPatch, url: str, **more: str) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("RUSHES_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RUSHES_NATS__URL", url)
    for key, value in more.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A server of its own: the session's already holds the RUSHES stream, and a second stream on
    the same subjects is refused."""
    server = NatsServer.create(tmp_path)
    server.start(tmp_path / "nats.log", die_with_parent=True)
    try:
        yield server
    finally:
        server.stop()


def test_it_creates_the_stream_then_applies_changed_settings(
    own_nats: NatsServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nats_server = own_nats
    stream = "SETUP_TEST"
    auth = {"RUSHES_NATS__USER": nats_server.user, "RUSHES_NATS__PASSWORD": nats_server.password}
    _env(monkeypatch, nats_server.url, RUSHES_NATS__STREAM=stream, **auth)
    assert main(wait_s=5) == 0
    monkeypatch.setenv("RUSHES_NATS__DUPLICATE_WINDOW_S", "1234")
    assert main(wait_s=5) == 0
    assert capsys.readouterr().out.count(f"stream {stream} is up to date") == 2

    async def window() -> float:
        bus = await EventBus.connect(nats_server.settings(), name="check")
        try:
            return float((await bus.js.stream_info(stream)).config.duplicate_window or 0)
        finally:
            await bus.close()

    assert asyncio.run(window()) == pytest.approx(1234)


def test_it_fails_in_one_line_without_nats_or_with_bad_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, f"nats://127.0.0.1:{free_port()}")
    assert main(wait_s=1) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("stream-setup: cannot connect to NATS"), err
    _env(monkeypatch, "nats://127.0.0.1:4222", RUSHES_NATS__STREAM_REPLICAS="9")
    assert main(wait_s=1) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "RUSHES_NATS__STREAM_REPLICAS" in err[0], err  # bad settings: nothing tried


def test_it_runs_as_a_module() -> None:
    """What the chart's job runs: the module answers (here: no NATS) with its one line and exit 1."""
    env = {"PATH": "/usr/bin:/bin", "RUSHES_NATS__URL": f"nats://127.0.0.1:{free_port()}",
           "RUSHES_NATS__CONNECT_TIMEOUT_S": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "rushes_events.stream_setup"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1 and last.startswith("stream-setup: cannot connect to NATS"), done.stderr
