"""Spawning, identifying and stopping process groups by PID."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest
from rushes_stack import processes
from rushes_stack.processes import ProcessHandle, is_alive, spawn, stop

IGNORE_SIGTERM = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ignoring SIGTERM', flush=True)\n"
    "time.sleep(60)\n"
)


def _wait_for_log(path: Path, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in processes.log_tail(path):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.02)


def test_spawn_runs_in_own_session_with_log(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "echo.log"
    handle = spawn("echo", ["sh", "-c", "echo hello; sleep 30"], env={"PATH": "/usr/bin:/bin"}, log_path=log)
    try:
        assert handle.is_alive()
        assert psutil.Process(handle.pid).pid == handle.pid
        assert os.getpgid(handle.pid) == handle.pid
        assert os.getsid(handle.pid) == handle.pid
        _wait_for_log(log, "hello")
    finally:
        assert stop(handle, grace_s=2)
    assert not handle.is_alive()


def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    log = tmp_path / "stubborn.log"
    handle = spawn("stubborn", [sys.executable, "-c", IGNORE_SIGTERM], env={}, log_path=log)
    _wait_for_log(log, "ignoring SIGTERM")
    started = time.monotonic()
    assert stop(handle, grace_s=0.5)
    elapsed = time.monotonic() - started
    assert not is_alive(handle.pid, handle.create_time)
    assert 0.5 <= elapsed < 5.0


def test_stop_reaches_the_whole_group(tmp_path: Path) -> None:
    handle = spawn(
        "forker",
        ["sh", "-c", "sleep 60 & sleep 60 & wait"],
        env={"PATH": "/usr/bin:/bin"},
        log_path=tmp_path / "f.log",
    )
    deadline = time.monotonic() + 5
    while len(psutil.Process(handle.pid).children()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    children = [(c.pid, c.create_time()) for c in psutil.Process(handle.pid).children()]
    assert stop(handle, grace_s=2)
    assert [pid for pid, created in children if is_alive(pid, created)] == []


def test_stop_of_a_finished_process_reports_false(tmp_path: Path) -> None:
    handle = spawn("quick", ["true"], env={"PATH": "/usr/bin:/bin"}, log_path=tmp_path / "q.log")
    deadline = time.monotonic() + 5
    while is_alive(handle.pid, handle.create_time):  # exited: a zombie until reaped, which is "dead"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert stop(handle) is False


def test_pid_with_another_create_time_is_not_ours(tmp_path: Path) -> None:
    handle = spawn("sleeper", ["sleep", "30"], env={"PATH": "/usr/bin:/bin"}, log_path=tmp_path / "s.log")
    try:
        assert is_alive(handle.pid, handle.create_time)
        assert not is_alive(handle.pid, handle.create_time - 3600)  # the PID was "reused"
        impostor = ProcessHandle("sleeper", handle.pid, handle.create_time - 3600, handle.log_path)
        assert stop(impostor) is False  # never signals a process that is not ours
        assert handle.is_alive()
    finally:
        stop(handle)


def test_handle_round_trips_through_json_dict(tmp_path: Path) -> None:
    handle = ProcessHandle("x", 123, 456.5, tmp_path / "x.log")
    assert ProcessHandle.from_dict("x", handle.to_dict()) == handle


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stop_uses_the_given_signal(tmp_path: Path, sig: signal.Signals) -> None:
    script = (
        "import signal, sys, time\n"
        f"signal.signal({int(sig)}, lambda *_: (print('got', {int(sig)}, flush=True), sys.exit(0)))\n"
        "print('armed', flush=True)\n"
        "time.sleep(60)\n"
    )
    log = tmp_path / "sig.log"
    handle = spawn("sig", [sys.executable, "-c", script], env={}, log_path=log)
    _wait_for_log(log, "armed")
    assert stop(handle, sig=sig, grace_s=5)
    assert f"got {int(sig)}" in processes.log_tail(log)
