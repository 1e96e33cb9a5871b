"""service_main() in a real child process: readable config errors, graceful stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rushes_grpc import EXIT_CONFIG

SCRIPT = Path(__file__).with_name("grpc_service_script.py")


def run_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    env.update({"RUSHES_GRPC__ADDRESS": "127.0.0.1:0", "RUSHES_METRICS_PORT": "0", **extra})
    return env


def test_config_error_exits_with_one_readable_line() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=run_env(RUSHES_NATS__MAX_DELIVER="zero"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_CONFIG
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "RUSHES_NATS__MAX_DELIVER" in lines[0]
    assert "Traceback" not in done.stderr


def test_sigterm_stops_gracefully_with_exit_zero() -> None:
    child = subprocess.Popen(
        [sys.executable, str(SCRIPT)],
        env=run_env(RUSHES_GRPC__GRACE_S="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ready = child.stdout.readline()
        assert ready.startswith("READY "), child.stderr.read() if child.stderr else ready
        port = int(ready.split()[1])
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            status = (
                health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5).status
            )
        assert status == health_pb2.HealthCheckResponse.SERVING
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=20)
        assert child.returncode == 0, stderr
        assert "received SIGTERM" in stderr and "script-service stopped" in stderr
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
