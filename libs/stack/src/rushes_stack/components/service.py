"""A Rushes service (`python -m rushes_<name>`) as a Component, ready when gRPC health says SERVING."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from rushes_stack.components.base import Component, LaunchCommand
from rushes_stack.ports import LOOPBACK, free_ports

HEALTH_TIMEOUT_S = 1.0


def grpc_serving(address: str, service: str = "", timeout_s: float = HEALTH_TIMEOUT_S) -> bool:
    """The standard grpc.health.v1 check: True when `address` reports SERVING for `service`."""
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


@dataclass
class ServiceProcess(Component):
    """One service process; `env` (the stack's RUSHES_* environment) is given before start."""

    name: str
    module: str
    work_dir: Path
    grpc_port: int
    metrics_port: int
    env: dict[str, str] = field(default_factory=dict)
    start_timeout_s: float = 60.0
    # Services drain in-flight work on SIGTERM (rushes_grpc grace); give them time to ack.
    stop_grace_s: float = 20.0

    @classmethod
    def create(
        cls, name: str, module: str, work_dir: Path, *, ports: dict[str, int] | None = None
    ) -> ServiceProcess:
        chosen = dict(zip(("grpc", "metrics"), free_ports(2), strict=True))
        chosen.update(ports or {})
        return cls(
            name=name,
            module=module,
            work_dir=work_dir,
            grpc_port=chosen["grpc"],
            metrics_port=chosen["metrics"],
        )

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.grpc_port}"

    @property
    def ports(self) -> dict[str, int]:
        return {"grpc": self.grpc_port, "metrics": self.metrics_port}

    @property
    def metrics_url(self) -> str | None:
        return f"http://{LOOPBACK}:{self.metrics_port}/metrics"

    def prepare(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> LaunchCommand:
        env = dict(os.environ)
        env.update(self.env)
        env["PYTHONUNBUFFERED"] = "1"
        return LaunchCommand(argv=[sys.executable, "-m", self.module], env=env, cwd=self.work_dir)

    def ready(self) -> bool:
        return grpc_serving(self.address)
