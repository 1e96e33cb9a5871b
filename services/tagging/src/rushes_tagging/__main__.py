"""`python -m rushes_tagging`: the tagging service.

Consumes rushes.v1.asset.ingested (durable "tagging"), serves TaggingService on
RUSHES_GRPC__ADDRESS. The preset for automatic tagging is RUSHES_TAGGING_PRESET (default: the
presets file's default). Face detection runs on Triton (RUSHES_TRITON__URL); while the model is
unavailable, jobs are retried with backoff and never silently tagged without faces.
"""

from __future__ import annotations

import asyncio
import os

from rushes.tagging.v1 import tagging_service_pb2_grpc as pb_grpc
from rushes_config import ConfigError, RushesSettings
from rushes_grpc import serve_with_consumer, service_main, stage_connections
from rushes_inference import TritonClient
from rushes_inference.faces import FACE_DETECTOR_MODEL

from rushes_tagging.analysis import warm_up
from rushes_tagging.consumer import INGESTED, TaggingHandler
from rushes_tagging.job import STAGE, TaggingJob
from rushes_tagging.presets import PresetError, bundled_presets, get_preset
from rushes_tagging.servicer import TaggingServicer

SERVICE_NAME = "rushes.tagging.v1.TaggingService"


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    try:
        presets = bundled_presets()
        preset = get_preset(os.environ.get("RUSHES_TAGGING_PRESET") or None, presets)
    except PresetError as exc:
        raise ConfigError(str(exc)) from None
    await asyncio.to_thread(warm_up)
    async with stage_connections(settings, STAGE) as stage:
        triton = TritonClient(settings.triton)
        job = TaggingJob(stage.store, stage.bus, triton, settings.limits, work_dir=stage.work_dir)
        servicer = TaggingServicer(job, presets)
        await serve_with_consumer(
            settings, stop, name="tagging", service_name=SERVICE_NAME,
            consumer=stage.consumer([INGESTED], TaggingHandler(job, stage.bus, preset), max_ack_pending=4),
            register=lambda s: pb_grpc.add_TaggingServiceServicer_to_server(servicer, s),
            detail=f", preset {preset.name}",
            dependencies=stage.dependencies(
                {"triton:face_detector": lambda: triton.is_model_ready(FACE_DETECTOR_MODEL)}
            ),
        )  # fmt: skip
        await triton.close()


def main() -> None:
    service_main(serve, service_name="tagging")


if __name__ == "__main__":
    main()
