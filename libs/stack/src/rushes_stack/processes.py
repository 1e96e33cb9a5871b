"""Child processes we own by PID: spawn in their own process group, check, stop with escalation.

Every server runs in its own session (`start_new_session=True`) so that one signal to the process
group reaches the server and anything it forked, and so that Ctrl-C in the terminal that ran
`rushes up` does not take the stack down with it. A PID alone is not an identity (the kernel reuses
PIDs), so a handle also records the process create time and every check compares it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

# Two clocks read the same start time with a little rounding; PID reuse within this window is
# not a realistic risk.
_CREATE_TIME_TOLERANCE_S = 1.0
_PR_SET_PDEATHSIG = 1

# Popen objects of children spawned by this interpreter, kept so that we reap them (no zombies,
# no "subprocess still running" warnings) when they are stopped.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ProcessHandle:
    """What identifies one running process across interpreters: PID plus its create time."""

    name: str
    pid: int
    create_time: float
    log_path: Path

    def is_alive(self) -> bool:
        return is_alive(self.pid, self.create_time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "create_time": self.create_time,
            "log": str(self.log_path),
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> ProcessHandle:
        return cls(
            name=name,
            pid=int(data["pid"]),
            create_time=float(data["create_time"]),
            log_path=Path(data["log"]),
        )


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it when the spawning thread dies (Linux only).

    Used by test fixtures so that a pytest run killed with SIGKILL leaves no servers behind.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path | None = None,
    user: str | None = None,
    die_with_parent: bool = False,
) -> ProcessHandle:
    """Start `argv` in a new session with stdout+stderr appended to `log_path`.

    `user` runs the child under another account (postgres refuses to run as root).
    `die_with_parent` ties the child's life to the calling thread: only for callers whose thread
    lives as long as the server should (test fixtures), never for `rushes up`.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **as_user(user),
            preexec_fn=_die_with_parent if die_with_parent else None,
        )
    _CHILDREN[popen.pid] = popen
    try:
        create_time = psutil.Process(popen.pid).create_time()
    except psutil.NoSuchProcess:  # already exited and reaped by someone: record "now"
        create_time = time.time()
    return ProcessHandle(name=name, pid=popen.pid, create_time=create_time, log_path=log_path)


def as_user(user: str | None) -> dict[str, Any]:
    """subprocess keyword arguments that drop to `user` with only its own group.

    `user=` alone would keep root's group (gid 0) in the child.
    """
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _reap(pid: int) -> None:
    popen = _CHILDREN.pop(pid, None)
    if popen is not None:
        popen.poll()
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def is_alive(pid: int, create_time: float | None = None) -> bool:
    """True when `pid` runs and (if given) was created at `create_time`; zombies count as dead."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            _reap(pid)
            return False
        if create_time is not None and abs(proc.create_time() - create_time) > _CREATE_TIME_TOLERANCE_S:
            return False
    except psutil.NoSuchProcess:
        return False
    return True


def _group_members(handle: ProcessHandle) -> list[psutil.Process]:
    """Live processes in the handle's process group that are not older than the handle.

    The create-time checks keep us from signalling a stranger's group after the PID was reused.
    """
    try:
        leader = psutil.Process(handle.pid)
        if abs(leader.create_time() - handle.create_time) > _CREATE_TIME_TOLERANCE_S:
            return []  # the PID (and so the group id) now belongs to another process
    except psutil.NoSuchProcess:
        pass  # leader gone; its group may live on (e.g. postgres backends after a kill -9)
    members: list[psutil.Process] = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) != handle.pid:
                continue
            if proc.create_time() < handle.create_time - _CREATE_TIME_TOLERANCE_S:
                continue
            if proc.status() == psutil.STATUS_ZOMBIE:
                _reap(proc.pid)
                continue
        except (psutil.NoSuchProcess, ProcessLookupError, PermissionError):
            continue
        members.append(proc)
    return members


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait for `procs` to exit, reaping our own children; return those still alive."""
    deadline = time.monotonic() + timeout
    remaining = procs
    while remaining:
        for proc in remaining:
            _reap(proc.pid)
        remaining = [p for p in remaining if is_alive(p.pid)]
        if not remaining or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    return remaining


def stop(
    handle: ProcessHandle,
    *,
    grace_s: float = 5.0,
    sig: signal.Signals = signal.SIGTERM,
    kill_wait_s: float = 10.0,
) -> bool:
    """Stop the handle's whole process group: `sig`, then SIGKILL after `grace_s` seconds.

    Returns False when nothing of it was running. Raises RuntimeError only if processes survive
    SIGKILL (uninterruptible sleep), naming them.
    """
    members = _group_members(handle)
    if not members:
        _reap(handle.pid)
        return False
    _signal_group(handle.pid, sig)
    remaining = _wait_gone(members, grace_s)
    if remaining:
        _signal_group(handle.pid, signal.SIGKILL)
        remaining = _wait_gone(remaining, kill_wait_s)
    _reap(handle.pid)
    if remaining:
        pids = ", ".join(str(p.pid) for p in remaining)
        raise RuntimeError(f"{handle.name}: processes {pids} survived SIGKILL")
    return True


def log_tail(path: Path, max_lines: int = 60) -> str:
    """The last lines of a log file, for error messages (empty when there is no log)."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-max_lines:])
