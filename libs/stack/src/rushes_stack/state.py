"""The stack's record on disk: `<state dir>/stack.json` (mode 0600: it holds credentials).

It keeps what identifies each running process (PID + create time) and everything needed to
start a component again exactly as before: ports, credentials, folders. Data folders outlive
`down`, so the record does too (with the PIDs cleared): the next `up` reuses ports and secrets.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rushes_stack.components.base import Component
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.postgres import PostgresServer
from rushes_stack.components.s3 import S3Server
from rushes_stack.components.service import ServiceProcess
from rushes_stack.components.tritonserver import TritonServer
from rushes_stack.credentials import new_secret
from rushes_stack.env import DEFAULT_BUCKET
from rushes_stack.processes import ProcessHandle

STATE_FILE = "stack.json"
STATE_VERSION = 1


class StackStateError(RuntimeError):
    """stack.json exists but cannot be used (unreadable, wrong version, missing fields)."""


@dataclass
class StackState:
    """The components of one local stack, in start order, with their credentials."""

    state_dir: Path
    nats: NatsServer
    s3: S3Server
    postgres: PostgresServer
    admin_token: str
    triton: TritonServer | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    bucket: str = DEFAULT_BUCKET
    started: list[str] = field(default_factory=list)
    """Components (re)started by the `up` call that returned this state; empty when all ran already."""

    @classmethod
    def new(cls, state_dir: Path) -> StackState:
        """Fresh credentials and free ports for the three always-on servers."""
        return cls(
            state_dir=state_dir,
            nats=NatsServer.create(state_dir / "nats"),
            s3=S3Server.create(state_dir / "s3"),
            postgres=PostgresServer.create(state_dir / "postgres"),
            admin_token=new_secret(),
        )

    @property
    def path(self) -> Path:
        return self.state_dir / STATE_FILE

    def log_path(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    @property
    def infrastructure(self) -> list[Component]:
        infra: list[Component] = [self.nats, self.s3, self.postgres]
        if self.triton is not None:
            infra.append(self.triton)
        return infra

    def components(self) -> dict[str, Component]:
        """Every component by name: infrastructure first, then services (the start order)."""
        ordered: dict[str, Component] = {c.name: c for c in self.infrastructure}
        ordered.update(self.services)
        return ordered

    def to_json(self) -> dict[str, Any]:
        components: dict[str, Any] = {}
        for name, component in self.components().items():
            entry: dict[str, Any] = {
                "pid": None,
                "create_time": None,
                "log": str(self.log_path(name)),
                "address": component.address,
                "ports": component.ports,
                "metrics": component.metrics_url,
            }
            if component.process is not None:
                entry.update(component.process.to_dict())
            if isinstance(component, TritonServer):
                entry["model_repo"] = str(component.model_repo)
                entry["models"] = component.models
            if isinstance(component, ServiceProcess):
                entry["module"] = component.module
            components[name] = entry
        return {
            "version": STATE_VERSION,
            "state_dir": str(self.state_dir),
            "credentials": {
                "nats_user": self.nats.user,
                "nats_password": self.nats.password,
                "s3_access_key": self.s3.access_key,
                "s3_secret_key": self.s3.secret_key,
                "postgres_password": self.postgres.password,
                "postgres_dsn": self.postgres.dsn,
                "admin_token": self.admin_token,
            },
            "bucket": self.bucket,
            "components": components,
        }

    @classmethod
    def from_json(cls, state_dir: Path, data: dict[str, Any]) -> StackState:
        try:
            if data.get("version") != STATE_VERSION:
                raise StackStateError(f"version {data.get('version')!r}, expected {STATE_VERSION}")
            creds = data["credentials"]
            entries: dict[str, Any] = data["components"]
            state = cls(
                state_dir=state_dir,
                nats=NatsServer(
                    data_dir=state_dir / "nats",
                    port=int(entries["nats"]["ports"]["client"]),
                    monitor_port=int(entries["nats"]["ports"]["monitor"]),
                    user=creds["nats_user"],
                    password=creds["nats_password"],
                ),
                s3=S3Server(
                    data_dir=state_dir / "s3",
                    port_map={k: int(v) for k, v in entries["s3"]["ports"].items()},
                    access_key=creds["s3_access_key"],
                    secret_key=creds["s3_secret_key"],
                ),
                postgres=PostgresServer(
                    data_dir=state_dir / "postgres",
                    port=int(entries["postgres"]["ports"]["postgres"]),
                    password=creds["postgres_password"],
                ),
                admin_token=creds["admin_token"],
                bucket=data.get("bucket", DEFAULT_BUCKET),
            )
            if "triton" in entries:
                t = entries["triton"]
                state.triton = TritonServer(
                    work_dir=state_dir / "triton",
                    model_repo=Path(t["model_repo"]),
                    http_port=int(t["ports"]["http"]),
                    grpc_port=int(t["ports"]["grpc"]),
                    metrics_port=int(t["ports"]["metrics"]),
                    models=t.get("models"),
                )
            infra_names = {"nats", "s3", "postgres", "triton"}
            for name, entry in entries.items():
                if name in infra_names:
                    continue
                state.services[name] = ServiceProcess(
                    name=name,
                    module=entry["module"],
                    work_dir=state_dir / "services" / name,
                    grpc_port=int(entry["ports"]["grpc"]),
                    metrics_port=int(entry["ports"]["metrics"]),
                )
            for name, component in state.components().items():
                entry = entries[name]
                if entry.get("pid") is not None:
                    component.process = ProcessHandle.from_dict(name, entry)
        except StackStateError as exc:
            raise StackStateError(f"{state_dir / STATE_FILE}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StackStateError(
                f"{state_dir / STATE_FILE} is not a valid stack record ({type(exc).__name__}: {exc})"
            ) from None
        return state

    def save(self) -> None:
        """Write stack.json atomically, readable by the owner only."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.to_json(), out, indent=2)
            out.write("\n")
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)


def load_state(state_dir: Path) -> StackState | None:
    """The recorded stack under `state_dir`, or None when there is none."""
    path = Path(state_dir) / STATE_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StackStateError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise StackStateError(f"{path} does not hold a JSON object")
    return StackState.from_json(Path(state_dir), data)
