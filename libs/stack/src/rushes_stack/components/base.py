"""The life cycle every component shares: prepare files, spawn, wait until ready, stop."""

from __future__ import annotations

import os
import signal
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from rushes_stack import processes
from rushes_stack.ports import port_free
from rushes_stack.processes import ProcessHandle


class ComponentFailed(RuntimeError):
    """A component did not come up; the message ends with the tail of its log."""

    def __init__(self, name: str, reason: str, log_path: Path | None = None) -> None:
        message = f"{name} failed to start: {reason}"
        if log_path is not None:
            tail = processes.log_tail(log_path)
            if tail:
                message += f"\n--- last lines of {log_path} ---\n{tail}"
            else:
                message += f" (log {log_path} is empty)"
        super().__init__(message)
        self.component = name
        self.reason = reason
        self.log_path = log_path


@dataclass(frozen=True)
class LaunchCommand:
    argv: list[str]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    user: str | None = None
    cwd: Path | None = None


class Component(ABC):
    """A local server we start, probe and stop by PID.

    Subclasses describe *what* to run (`command`), *when it is up* (`ready`) and anything to do
    once it is up (`after_ready`); this class owns *how*: the same code path serves `rushes up`
    and the pytest fixtures.
    """

    name: str
    start_timeout_s: float = 30.0
    stop_grace_s: float = 5.0
    stop_signal: signal.Signals = signal.SIGTERM
    process: ProcessHandle | None = None

    def prepare(self) -> None:
        """Create directories and config files before the first spawn (idempotent)."""
        return None

    @abstractmethod
    def command(self) -> LaunchCommand: ...

    @abstractmethod
    def ready(self) -> bool:
        """A quick probe (well under a second): does the server answer?"""

    def after_ready(self) -> None:
        """One-off setup once the server answers (databases, ...); must be idempotent."""
        return None

    def healthy(self) -> bool:
        """The health check of `rushes status`; by default the readiness probe."""
        return self.ready()

    @property
    @abstractmethod
    def address(self) -> str: ...

    @property
    @abstractmethod
    def ports(self) -> dict[str, int]: ...

    @property
    def metrics_url(self) -> str | None:
        return None

    def start(
        self, log_path: Path, *, timeout_s: float | None = None, die_with_parent: bool = False
    ) -> ProcessHandle:
        """Spawn the server and return once it is ready; on failure nothing is left running."""
        busy = [f"{label} {port}" for label, port in self.ports.items() if not port_free(port)]
        if busy:
            raise ComponentFailed(self.name, f"port(s) already in use: {', '.join(busy)}")
        try:
            self.prepare()
            launch = self.command()
        except ComponentFailed:
            raise
        except Exception as exc:  # missing binary, unwritable folder, ...: one readable line
            raise ComponentFailed(self.name, f"{type(exc).__name__}: {exc}") from exc
        handle = processes.spawn(
            self.name,
            launch.argv,
            env=launch.env,
            log_path=log_path,
            cwd=launch.cwd,
            user=launch.user,
            die_with_parent=die_with_parent,
        )
        timeout = self.start_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        try:
            while not self.ready():
                if not handle.is_alive():
                    raise ComponentFailed(self.name, f"process {handle.pid} exited", log_path)
                if time.monotonic() >= deadline:
                    raise ComponentFailed(self.name, f"not ready after {timeout:.0f} s", log_path)
                time.sleep(0.05)
            self.after_ready()
        except ComponentFailed:
            processes.stop(handle, grace_s=1.0)
            raise
        except Exception as exc:
            processes.stop(handle, grace_s=1.0)
            raise ComponentFailed(self.name, f"setup after start failed: {exc}", log_path) from exc
        self.process = handle
        return handle

    def stop(self) -> bool:
        """Stop the process this object started; False when it was not running."""
        if self.process is None:
            return False
        stopped = processes.stop(self.process, grace_s=self.stop_grace_s, sig=self.stop_signal)
        self.process = None
        return stopped
