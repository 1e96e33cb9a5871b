"""The stack's record on disk: `<state dir>/stack.json` (mode 0600: it holds credentials).

It keeps what identifies each running process (PID + create time) and everything needed to
start a component again exactly as before: ports, credentials, folders. Data folders outlive
`down`, so the record does too (with the PIDs cleared): the next `up` reuses ports and secrets.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rushes_grpc.auth import Role, new_token, write_principals_file, write_private_file

from rushes_stack.access import (
    PEOPLE_ROLES,
    SERVICE_ROLE,
    nats_permissions,
    needs_object_store,
    s3_actions,
    s3_bucket_policy,
    s3_identity_name,
)
from rushes_stack.components.base import Component
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.postgres import PostgresServer
from rushes_stack.components.s3 import S3Server
from rushes_stack.components.service import ServiceProcess
from rushes_stack.components.tritonserver import TritonServer
from rushes_stack.credentials import new_secret, new_user
from rushes_stack.env import DEFAULT_BUCKET
from rushes_stack.processes import ProcessHandle

STATE_FILE = "stack.json"
STATE_VERSION = 1


@dataclass(frozen=True)
class ServiceCredentials:
    """What one service authenticates with: its own NATS user, S3 key and gRPC token."""

    nats_user: str
    nats_password: str
    s3_access_key: str
    s3_secret_key: str
    grpc_token: str

    @classmethod
    def create(cls, service: str) -> ServiceCredentials:
        return cls(
            nats_user=new_user(service),
            nats_password=new_secret(),
            s3_access_key=f"{service}{new_secret(6)}",
            s3_secret_key=new_secret(),
            grpc_token=new_token(),
        )


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
    service_credentials: dict[str, ServiceCredentials] = field(default_factory=dict)
    """Per service: its NATS user, S3 key and gRPC token (see rushes_stack.access)."""
    role_tokens: dict[str, str] = field(default_factory=dict)
    """gRPC bearer token per role for people (viewer, editor, reviewer; admin is admin_token)."""

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

    @property
    def auth_dir(self) -> Path:
        return self.state_dir / "auth"

    @property
    def principals_path(self) -> Path:
        return self.auth_dir / "principals.json"

    def token_path(self, role: str) -> Path:
        return self.auth_dir / f"{role}.token"

    def tokens_by_role(self) -> dict[str, str]:
        return {**self.role_tokens, "admin": self.admin_token}

    def ensure_access(self, services: Iterable[str]) -> None:
        """Give every role and each of `services` credentials (kept across `up`s once made), and
        describe the service users/identities to the NATS and S3 servers, with the bucket policy
        that keeps each service key off the others' objects (set by the S3 server at start)."""
        for role in PEOPLE_ROLES:
            if role != "admin" and role not in self.role_tokens:
                self.role_tokens[role] = new_token()
        for name in services:
            if name not in self.service_credentials:
                self.service_credentials[name] = ServiceCredentials.create(name)
        self.nats.users = [
            {"user": c.nats_user, "password": c.nats_password, "permissions": nats_permissions(name)}
            for name, c in sorted(self.service_credentials.items())
        ]
        with_key = sorted(name for name in self.service_credentials if needs_object_store(name))
        self.s3.identities = [
            {
                "name": s3_identity_name(name),
                "credentials": [
                    {
                        "accessKey": self.service_credentials[name].s3_access_key,
                        "secretKey": self.service_credentials[name].s3_secret_key,
                    }
                ],
                "actions": s3_actions(self.bucket),
            }
            for name in with_key
        ]
        self.s3.bucket = self.bucket
        self.s3.bucket_policy = s3_bucket_policy(self.bucket, with_key)

    def write_auth_files(self) -> None:
        """<state>/auth/: principals.json (token digests, what servers read) and <role>.token for
        the CLI, all 0600 in a 0700 folder."""
        self.auth_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.auth_dir, 0o700)
        principals = [(f"{role}", Role.parse(role), token) for role, token in self.tokens_by_role().items()]
        principals += [
            (f"service:{name}", Role.parse(SERVICE_ROLE), c.grpc_token)
            for name, c in sorted(self.service_credentials.items())
        ]
        write_principals_file(self.principals_path, principals)
        for role, token in self.tokens_by_role().items():
            write_private_file(self.token_path(role), token + "\n")

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
                "role_tokens": dict(self.role_tokens),
                "services": {name: asdict(c) for name, c in self.service_credentials.items()},
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
                role_tokens=dict(creds.get("role_tokens", {})),
                service_credentials={
                    name: ServiceCredentials(**values) for name, values in creds.get("services", {}).items()
                },
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
