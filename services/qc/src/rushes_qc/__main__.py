"""`python -m rushes_qc`: the QC service.

Consumes rushes.v1.asset.enhanced (durable "qc") and publishes rushes.v1.asset.qc. Faces for the
identity check come from Triton (RUSHES_TRITON__URL) when it is there; when it is not, the report
says so. RUSHES_QC_PRESET picks the thresholds preset (default: the presets file's default).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from rushes.qc.v1 import qc_service_pb2_grpc as pb_grpc
from rushes_config import ConfigError, RushesSettings
from rushes_events import Consumer, EventBus
from rushes_grpc import service_main, start_server
from rushes_inference import TritonClient
from rushes_metrics import init_stage_labels
from rushes_storage import ObjectStore

from rushes_qc.consumer import ENHANCED, QcHandler
from rushes_qc.job import STAGE, QcJob
from rushes_qc.presets import PresetError, get_preset
from rushes_qc.servicer import SERVICE_NAME, QcServicer

log = logging.getLogger("rushes_qc")


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    try:
        preset = get_preset(os.environ.get("RUSHES_QC_PRESET", ""))
    except PresetError as exc:
        raise ConfigError(str(exc)) from None
    init_stage_labels(STAGE)
    store = ObjectStore(settings.s3)
    await asyncio.to_thread(store.ensure_bucket)
    bus = await EventBus.connect(settings.nats, name="qc")
    await bus.ensure_stream()
    triton = TritonClient(settings.triton)
    work_dir = Path(settings.state_dir) / "spool" / "qc"
    work_dir.mkdir(parents=True, exist_ok=True)
    job = QcJob(store, bus, triton, settings.limits, preset=preset, work_dir=work_dir)
    servicer = QcServicer(job)
    server = await start_server(
        name="qc",
        address=settings.grpc.address,
        register=lambda s: pb_grpc.add_QcServiceServicer_to_server(servicer, s),
        service_names=[SERVICE_NAME],
        settings=settings.grpc,
    )
    log.info("qc gRPC server listening on %s (%s), preset %s", server.address, SERVICE_NAME, preset.name)
    consumer = Consumer(
        bus,
        stage=STAGE,
        durable=STAGE,
        filter_subjects=[ENHANCED],
        handler=QcHandler(job, bus),
        settings=settings.nats,
        max_ack_pending=2,
    )
    await consumer.ensure()
    await consumer.run(stop)
    await server.stop(settings.grpc.grace_s)
    await triton.close()
    await bus.close()


def main() -> None:
    service_main(serve, service_name="qc")


if __name__ == "__main__":
    main()
