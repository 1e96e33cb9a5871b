"""`python -m rushes_asr`: the ASR service.

Consumes rushes.v1.asset.ingested (durable "asr"); Whisper runs on Triton (RUSHES_TRITON__URL):
while the model is unavailable jobs are retried with backoff. RUSHES_ASR_LANGUAGE pins the
language (default: detected); RUSHES_ASR_BEAM_SIZE overrides the model's beam size.
"""

from __future__ import annotations

import asyncio
import os

from rushes.asr.v1 import asr_service_pb2_grpc as pb_grpc
from rushes_config import ConfigError, RushesSettings
from rushes_grpc import serve_with_consumer, service_main, stage_connections
from rushes_inference import TritonClient
from rushes_inference.asr import WHISPER_MODEL

from rushes_asr.consumer import INGESTED, AsrHandler
from rushes_asr.job import STAGE, AsrJob
from rushes_asr.servicer import SERVICE_NAME, AsrServicer


def _beam_size() -> int | None:
    raw = os.environ.get("RUSHES_ASR_BEAM_SIZE")
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 16:
        raise ConfigError(f"RUSHES_ASR_BEAM_SIZE must be an integer within 1..16, got {raw!r}")
    return int(raw)


async def serve(settings: RushesSettings, stop: asyncio.Event) -> None:
    beam_size = _beam_size()
    async with stage_connections(settings, STAGE) as stage:
        triton = TritonClient(settings.triton)
        job = AsrJob(stage.store, stage.bus, triton, work_dir=stage.work_dir, beam_size=beam_size,
                     language=os.environ.get("RUSHES_ASR_LANGUAGE") or None)  # fmt: skip
        servicer = AsrServicer(job)
        await serve_with_consumer(
            settings, stop, name="asr", service_name=SERVICE_NAME,
            consumer=stage.consumer([INGESTED], AsrHandler(job, stage.bus), max_ack_pending=2),
            register=lambda s: pb_grpc.add_AsrServiceServicer_to_server(servicer, s),
            dependencies=stage.dependencies({"triton:whisper": lambda: triton.is_model_ready(WHISPER_MODEL)}),
        )  # fmt: skip
        await triton.close()


def main() -> None:
    service_main(serve, service_name="asr")


if __name__ == "__main__":
    main()
