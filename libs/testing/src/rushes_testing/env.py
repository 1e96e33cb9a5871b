"""RUSHES_* environments for services under test (the same builder `rushes up` uses)."""

from __future__ import annotations

from rushes_stack.components.nats import NatsServer
from rushes_stack.components.s3 import S3Server
from rushes_stack.components.tritonserver import TritonServer
from rushes_stack.env import DEFAULT_BUCKET, infra_env


def settings_env(
    *,
    nats: NatsServer,
    s3: S3Server,
    postgres_dsn: str,
    triton: TritonServer | None = None,
    bucket: str = DEFAULT_BUCKET,
    service_name: str = "rushes-test",
) -> dict[str, str]:
    """An environment `rushes_config.load_settings()` reads as a complete configuration.

    The service listens on a free port (gRPC address 127.0.0.1:0, metrics port 0).
    """
    env = infra_env(nats=nats, s3=s3, postgres_dsn=postgres_dsn, triton=triton, bucket=bucket)
    env.update(
        {
            "RUSHES_SERVICE_NAME": service_name,
            "RUSHES_GRPC__ADDRESS": "127.0.0.1:0",
            "RUSHES_METRICS_PORT": "0",
        }
    )
    return env
