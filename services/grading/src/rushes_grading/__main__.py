"""`python -m rushes_grading`: the grading service.

Serves GradingService on RUSHES_GRPC__ADDRESS and consumes rushes.v1.asset.{ingested,tagged,
rejected} (durable "grading"): it keeps its own view of every asset and grades the assets of
projects that have a reference look once they are tagged. Needs no Triton.
"""

from __future__ import annotations

import asyncio

from rushes.grading.v1 import grading_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import serve_with_consumer, service_main, stage_connections

from rushes_grading.colour_math import colour_science
from rushes_grading.consumer import SUBJECTS, GradingHandler
from rushes_grading.job import STAGE, GradingJob
from rushes_grading.servicer import GradingServicer

SERVICE_NAME = "rushes.grading.v1.GradingService"


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    await asyncio.to_thread(colour_science)  # the slow import once, before the first request
    async with stage_connections(settings, STAGE) as stage:
        job = GradingJob(stage.store, stage.bus, settings.limits, work_dir=stage.work_dir)
        servicer = GradingServicer(job)
        try:
            await serve_with_consumer(
                settings, stop, name="grading", service_name=SERVICE_NAME,
                consumer=stage.consumer(SUBJECTS, GradingHandler(job), max_ack_pending=4),
                register=lambda s: pb_grpc.add_GradingServiceServicer_to_server(servicer, s),
                dependencies=stage.dependencies(),
            )  # fmt: skip
        finally:
            job.close()


def main() -> None:
    service_main(serve, service_name="grading")


if __name__ == "__main__":
    main()
