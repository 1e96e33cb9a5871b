"""Triton Inference Server (the tritonserver binary of the nvidia-pytriton wheel), CPU, Python backend.

How to invoke the binary is rushes_stack.triton's job; this module runs it as a Component and
reports per-model readiness, because a crashed Python stub does not flip the server's own health.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rushes_stack import triton
from rushes_stack.components.base import Component, LaunchCommand
from rushes_stack.ports import LOOPBACK, free_ports

MODEL_READY = "ready"
MODEL_UNAVAILABLE = "unavailable"


@dataclass
class TritonServer(Component):
    """One tritonserver serving `model_repo`; `work_dir` holds the prepared backend directory."""

    work_dir: Path
    model_repo: Path
    http_port: int
    grpc_port: int
    metrics_port: int
    models: list[str] | None = None
    name: str = "triton"
    start_timeout_s: float = 300.0
    # Triton polls model unloading once a second (~3 s with two Python models); let it finish.
    stop_grace_s: float = 15.0
    _loaded_models: list[str] = field(default_factory=list, repr=False)

    @classmethod
    def create(
        cls,
        work_dir: Path,
        model_repo: Path,
        *,
        ports: dict[str, int] | None = None,
        models: list[str] | None = None,
    ) -> TritonServer:
        """A server description with free ports unless given; `models=None` serves every model
        of the repository that has a config.pbtxt."""
        chosen = dict(zip(("http", "grpc", "metrics"), free_ports(3), strict=True))
        chosen.update(ports or {})
        return cls(
            work_dir=work_dir,
            model_repo=model_repo,
            http_port=chosen["http"],
            grpc_port=chosen["grpc"],
            metrics_port=chosen["metrics"],
            models=models,
        )

    @property
    def grpc_url(self) -> str:
        """host:port of the gRPC endpoint (what TritonSettings.url takes)."""
        return f"{LOOPBACK}:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    @property
    def address(self) -> str:
        return self.grpc_url

    @property
    def ports(self) -> dict[str, int]:
        return {"http": self.http_port, "grpc": self.grpc_port, "metrics": self.metrics_port}

    @property
    def metrics_url(self) -> str | None:
        return f"http://{LOOPBACK}:{self.metrics_port}/metrics"

    def served_models(self) -> list[str]:
        """The models this server loads: the given list, else every model in the repository."""
        if self.models is not None:
            return list(self.models)
        return triton.repository_models(self.model_repo)

    def prepare(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._loaded_models = self.served_models()

    def command(self) -> LaunchCommand:
        backend_dir = triton.prepare_backend_dir(self.work_dir)
        # Always name the models: explicit control never trips over a half-written model folder
        # (no config.pbtxt yet) that "load everything" would try and fail to load.
        argv, env = triton.triton_command(
            self.model_repo,
            backend_dir,
            self.http_port,
            self.grpc_port,
            self.metrics_port,
            models=self._loaded_models,
        )
        return LaunchCommand(argv=argv, env=env, cwd=self.work_dir)

    def model_status(self) -> dict[str, str]:
        """Model name -> "ready" | "unavailable", for every model this server should serve."""
        names = self._loaded_models or self.served_models()
        return {
            name: MODEL_READY if triton.model_ready(self.http_url, name) else MODEL_UNAVAILABLE
            for name in names
        }

    def ready(self) -> bool:
        if not triton.server_ready(self.http_url):
            return False
        return all(state == MODEL_READY for state in self.model_status().values())
