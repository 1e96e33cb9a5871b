"""`python -m rushes_enhance`: the enhance service.

Consumes rushes.v1.asset.tagged (durable "enhance") and serves EnhanceService. The learned upscaler
runs on Triton (RUSHES_TRITON__URL, model RUSHES_ENHANCE_UPSCALE_MODEL); while it is not ready the
classical path is used and announced. Limits: RUSHES_ENHANCE_* (rushes_enhance.settings).
"""

from __future__ import annotations

import asyncio

from rushes.enhance.v1 import enhance_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import serve_with_consumer, service_main, stage_connections
from rushes_inference import TritonClient

from rushes_enhance.consumer import TAGGED, EnhanceHandler
from rushes_enhance.job import STAGE, EnhanceJob
from rushes_enhance.model_client import TritonUpscaler
from rushes_enhance.servicer import SERVICE_NAME, EnhanceServicer
from rushes_enhance.settings import load_enhance_settings


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    enhance_settings = load_enhance_settings()
    async with stage_connections(settings, STAGE) as stage:
        triton = TritonClient(settings.triton)
        job = EnhanceJob(stage.store, stage.bus, enhance_settings, settings.limits,
                         upscaler=TritonUpscaler(triton, enhance_settings), work_dir=stage.work_dir)  # fmt: skip
        servicer = EnhanceServicer(job)
        await serve_with_consumer(
            settings, stop, name="enhance", service_name=SERVICE_NAME,
            consumer=stage.consumer([TAGGED], EnhanceHandler(job, stage.bus), max_ack_pending=1),
            register=lambda s: pb_grpc.add_EnhanceServiceServicer_to_server(servicer, s),
            dependencies=stage.dependencies(),  # Triton optional: classical fallback
        )  # fmt: skip
        await triton.close()


def main() -> None:
    service_main(serve, service_name="enhance")


if __name__ == "__main__":
    main()
