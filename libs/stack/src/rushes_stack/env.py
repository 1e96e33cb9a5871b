"""The RUSHES_* environment that points a process (service, CLI, test) at running servers.

Keys follow rushes_config.RushesSettings: prefix RUSHES_, nested groups joined with `__`, list
values as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rushes_stack.components.nats import NatsServer
from rushes_stack.components.s3 import S3Server
from rushes_stack.components.tritonserver import TritonServer

DEFAULT_BUCKET = "rushes"


def infra_env(
    *,
    nats: NatsServer,
    s3: S3Server,
    postgres_dsn: str,
    triton: TritonServer | None = None,
    bucket: str = DEFAULT_BUCKET,
) -> dict[str, str]:
    """Environment that reaches the infrastructure servers."""
    env = {
        "RUSHES_NATS__URL": nats.url,
        "RUSHES_NATS__USER": nats.user,
        "RUSHES_NATS__PASSWORD": nats.password,
        "RUSHES_S3__ENDPOINT": s3.endpoint,
        "RUSHES_S3__ACCESS_KEY": s3.access_key,
        "RUSHES_S3__SECRET_KEY": s3.secret_key,
        "RUSHES_S3__BUCKET": bucket,
        "RUSHES_S3__SECURE": "false",
        "RUSHES_POSTGRES__DSN": postgres_dsn,
    }
    if triton is not None:
        env["RUSHES_TRITON__URL"] = triton.grpc_url
    return env


def pipeline_env(stages: Sequence[str]) -> dict[str, str]:
    return {"RUSHES_PIPELINE_STAGES": json.dumps(list(stages))}


def own_service_env(name: str, grpc_address: str, metrics_port: int) -> dict[str, str]:
    """What one service needs about itself: where to listen and what to call itself."""
    return {
        "RUSHES_SERVICE_NAME": name,
        "RUSHES_GRPC__ADDRESS": grpc_address,
        "RUSHES_METRICS_PORT": str(metrics_port),
    }
