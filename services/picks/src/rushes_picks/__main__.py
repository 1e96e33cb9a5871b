"""`python -m rushes_picks`: the picks service.

Consumes asset.ingested, asset.tagged, asset.transcribed and the failures of tagging and asr
(durable "picks"), joins them per asset in the object store and publishes asset.picked; serves
PicksService (AssembleCut) on RUSHES_PICKS_ADDRESS's port via RUSHES_GRPC__ADDRESS. Waits for
tagging and asr only when they are in RUSHES_PIPELINE_STAGES.
"""

from __future__ import annotations

import asyncio

from rushes.picks.v1 import picks_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import serve_with_consumer, service_main, stage_connections

from rushes_picks.consumer import FILTER_SUBJECTS, PicksHandler
from rushes_picks.cut_service import CutAssembler
from rushes_picks.job import STAGE, PicksJob
from rushes_picks.presets import load_presets
from rushes_picks.servicer import SERVICE_NAME, PicksServicer


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    presets = load_presets()  # a broken presets file stops the service at start, not mid-job
    async with stage_connections(settings, STAGE) as stage:
        job = PicksJob(stage.store, stage.bus, pipeline_stages=settings.pipeline_stages, presets=presets,
                       work_dir=stage.work_dir)  # fmt: skip
        servicer = PicksServicer(CutAssembler(job.picks, stage.bus, presets), presets)
        await serve_with_consumer(
            settings, stop, name="picks", service_name=SERVICE_NAME,
            consumer=stage.consumer(FILTER_SUBJECTS, PicksHandler(job, stage.bus), max_ack_pending=8),
            register=lambda s: pb_grpc.add_PicksServiceServicer_to_server(servicer, s),
            dependencies=stage.dependencies(),
        )  # fmt: skip


def main() -> None:
    service_main(serve, service_name="picks")


if __name__ == "__main__":
    main()
