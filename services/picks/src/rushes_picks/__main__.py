"""`python -m rushes_picks`: the picks service.

Consumes asset.ingested, asset.tagged, asset.transcribed and the failures of tagging and asr
(durable "picks"), joins them per asset in the object store and publishes asset.picked; serves
PicksService (AssembleCut) on RUSHES_PICKS_ADDRESS's port via RUSHES_GRPC__ADDRESS. Waits for
tagging and asr only when they are in RUSHES_PIPELINE_STAGES.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rushes.picks.v1 import picks_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_events import Consumer, EventBus
from rushes_grpc import serve_with_consumer, service_main
from rushes_metrics import init_stage_labels
from rushes_storage import ObjectStore

from rushes_picks.consumer import FILTER_SUBJECTS, PicksHandler
from rushes_picks.cut_service import CutAssembler
from rushes_picks.job import STAGE, PicksJob
from rushes_picks.presets import load_presets
from rushes_picks.servicer import SERVICE_NAME, PicksServicer


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    presets = load_presets()  # a broken presets file stops the service at start, not mid-job
    init_stage_labels(STAGE)
    store = ObjectStore(settings.s3)
    await asyncio.to_thread(store.ensure_bucket)
    bus = await EventBus.connect(settings.nats, name="picks")
    await bus.ensure_stream()
    work_dir = Path(settings.state_dir) / "spool" / "picks"
    work_dir.mkdir(parents=True, exist_ok=True)
    job = PicksJob(store, bus, pipeline_stages=settings.pipeline_stages, presets=presets, work_dir=work_dir)
    servicer = PicksServicer(CutAssembler(job.picks, bus, presets), presets)
    consumer = Consumer(
        bus, stage=STAGE, durable=STAGE, filter_subjects=list(FILTER_SUBJECTS), handler=PicksHandler(job, bus),
        settings=settings.nats, max_ack_pending=8,
    )  # fmt: skip
    await serve_with_consumer(
        settings, stop, name="picks", service_name=SERVICE_NAME, consumer=consumer,
        register=lambda s: pb_grpc.add_PicksServiceServicer_to_server(servicer, s),
        dependencies={"nats": bus.reachable, "s3": store.reachable},
    )  # fmt: skip
    await bus.close()


def main() -> None:
    service_main(serve, service_name="picks")


if __name__ == "__main__":
    main()
