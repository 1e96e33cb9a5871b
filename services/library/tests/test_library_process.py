"""`python -m rushes_library` as a real process: the port log line, health, SIGTERM exits 0, bad config."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.postgres import PostgresServer
from rushes_stack.components.service import grpc_serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LISTENING = re.compile(r"library gRPC server listening on (?P<address>127\.0\.0\.1:\d+)")
START_TIMEOUT_S = 60.0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    env.update(extra)
    return env


def _wait_for_line(log: Path, pattern: re.Pattern[str], proc: subprocess.Popen[bytes]) -> re.Match[str]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        match = pattern.search(log.read_text(errors="replace"))
        if match:
            return match
        if proc.poll() is not None:
            pytest.fail(f"library exited {proc.returncode} before starting:\n{log.read_text()}")
        time.sleep(0.1)
    pytest.fail(f"no line matching {pattern.pattern!r} in:\n{log.read_text()}")


def test_process_serves_and_stops_gracefully_on_sigterm(
    nats_server: NatsServer, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    log = tmp_path / "library.log"
    env = _env(
        RUSHES_NATS__URL=nats_server.url,
        RUSHES_NATS__USER=nats_server.user,
        RUSHES_NATS__PASSWORD=nats_server.password,
        RUSHES_POSTGRES__DSN=postgres_server.fresh_database(prefix="library_proc"),
        RUSHES_GRPC__ADDRESS="127.0.0.1:0",
        RUSHES_METRICS_PORT="0",
    )
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "rushes_library"], env=env, stdout=out, stderr=out)
    try:
        address = _wait_for_line(log, LISTENING, proc)["address"]
        _wait_for_line(log, re.compile("library ready"), proc)
        assert grpc_serving(address)
        assert grpc_serving(address, "rushes.library.v1.LibraryService")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert "library stopped" in text
    assert "Traceback" not in text


def test_invalid_configuration_fails_fast_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rushes_library"],
        env=_env(RUSHES_POSTGRES__POOL_SIZE="0"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 78
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "RUSHES_POSTGRES__POOL_SIZE" in lines[0]
