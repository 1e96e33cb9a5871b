"""`python -m rushes_grading`: the grading service.

Serves GradingService on RUSHES_GRPC__ADDRESS and consumes rushes.v1.asset.{ingested,tagged,
rejected} (durable "grading"): it keeps its own view of every asset and grades the assets of
projects that have a reference look once they are tagged. Needs no Triton.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rushes.grading.v1 import grading_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_events import Consumer, EventBus
from rushes_grpc import serve_with_consumer, service_main
from rushes_metrics import init_stage_labels
from rushes_storage import ObjectStore

from rushes_grading.colour_math import colour_science
from rushes_grading.consumer import SUBJECTS, GradingHandler
from rushes_grading.job import STAGE, GradingJob
from rushes_grading.servicer import GradingServicer

SERVICE_NAME = "rushes.grading.v1.GradingService"


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    init_stage_labels(STAGE)
    await asyncio.to_thread(colour_science)  # the slow import once, before the first request
    store = ObjectStore(settings.s3)
    await asyncio.to_thread(store.ensure_bucket)
    bus = await EventBus.connect(settings.nats, name="grading")
    await bus.ensure_stream()
    work_dir = Path(settings.state_dir) / "spool" / "grading"
    work_dir.mkdir(parents=True, exist_ok=True)
    job = GradingJob(store, bus, settings.limits, work_dir=work_dir)
    servicer = GradingServicer(job)
    consumer = Consumer(
        bus,
        stage=STAGE,
        durable=STAGE,
        filter_subjects=SUBJECTS,
        handler=GradingHandler(job),
        settings=settings.nats,
        max_ack_pending=4,
    )
    await serve_with_consumer(
        settings, stop, name="grading", service_name=SERVICE_NAME, consumer=consumer,
        register=lambda s: pb_grpc.add_GradingServiceServicer_to_server(servicer, s),
        dependencies={"nats": bus.reachable, "s3": store.reachable},
    )  # fmt: skip
    await bus.close()
    job.close()


def main() -> None:
    service_main(serve, service_name="grading")


if __name__ == "__main__":
    main()
