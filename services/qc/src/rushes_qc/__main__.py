"""`python -m rushes_qc`: the QC service.

Consumes rushes.v1.asset.enhanced (durable "qc") and publishes rushes.v1.asset.qc. Faces for the
identity check come from Triton (RUSHES_TRITON__URL) when it is there; when it is not, the report
says so. RUSHES_QC_PRESET picks the thresholds preset (default: the presets file's default).
"""

from __future__ import annotations

import asyncio
import os

from rushes.qc.v1 import qc_service_pb2_grpc as pb_grpc
from rushes_config import ConfigError, RushesSettings
from rushes_grpc import serve_with_consumer, service_main, stage_connections
from rushes_inference import TritonClient

from rushes_qc.consumer import ENHANCED, QcHandler
from rushes_qc.job import STAGE, QcJob
from rushes_qc.presets import PresetError, get_preset
from rushes_qc.servicer import SERVICE_NAME, QcServicer


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    try:
        preset = get_preset(os.environ.get("RUSHES_QC_PRESET", ""))
    except PresetError as exc:
        raise ConfigError(str(exc)) from None
    async with stage_connections(settings, STAGE) as stage:
        triton = TritonClient(settings.triton)
        job = QcJob(stage.store, stage.bus, triton, settings.limits, preset=preset, work_dir=stage.work_dir)
        servicer = QcServicer(job)
        await serve_with_consumer(
            settings, stop, name="qc", service_name=SERVICE_NAME,
            consumer=stage.consumer([ENHANCED], QcHandler(job, stage.bus), max_ack_pending=2),
            register=lambda s: pb_grpc.add_QcServiceServicer_to_server(servicer, s),
            detail=f", preset {preset.name}",
            dependencies=stage.dependencies(),  # Triton optional: without it the report says identity was not checked
        )  # fmt: skip
        await triton.close()


def main() -> None:
    service_main(serve, service_name="qc")


if __name__ == "__main__":
    main()
