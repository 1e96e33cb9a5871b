"""stage_connections against a real nats-server and S3: what every stage service opens at start."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from rushes_config import RushesSettings
from rushes_events import Consumer
from rushes_grpc import stage_connections
from rushes_storage import ObjectStore

pytestmark = pytest.mark.integration


async def test_a_stage_opens_its_bucket_stream_spool_and_consumer(
    nats_server, s3_server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    bucket = f"stage-{secrets.token_hex(4)}"
    settings = RushesSettings(
        nats=nats_server.settings(), s3=s3_server.settings(bucket=bucket), state_dir=str(tmp_path)
    )
    async with stage_connections(settings, "grading") as stage:
        assert ObjectStore(settings.s3).client.bucket_exists(bucket)  # created when missing
        assert (await stage.bus.js.stream_info(settings.nats.stream)).config.name == settings.nats.stream
        assert stage.work_dir == tmp_path / "spool" / "grading" and stage.work_dir.is_dir()
        consumer = stage.consumer(["rushes.v1.asset.ingested"], _ignore, max_ack_pending=3)
        assert (
            isinstance(consumer, Consumer) and consumer.durable == "grading" and consumer.stage == "grading"
        )
        checks = stage.dependencies({"triton:x": _ready})
        assert set(checks) == {"nats", "s3", "triton:x"}
        assert await checks["nats"]() and await checks["s3"]()
        bus = stage.bus
    assert not bus.nc.is_connected  # closed on the way out


async def test_the_bus_is_closed_when_the_service_fails(nats_server, s3_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = RushesSettings(
        nats=nats_server.settings(), s3=s3_server.settings(bucket="stage-fail"), state_dir=str(tmp_path)
    )
    with pytest.raises(RuntimeError, match="boom"):
        async with stage_connections(settings, "qc") as stage:
            bus = stage.bus
            raise RuntimeError("boom")
    assert not bus.nc.is_connected


async def _ignore(delivery: object) -> None:
    return None


async def _ready() -> bool:
    return True
