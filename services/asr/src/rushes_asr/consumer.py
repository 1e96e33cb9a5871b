"""The JetStream side of ASR: rushes.v1.asset.ingested in, asset.transcribed (or stage_failed) out."""

from __future__ import annotations

import logging

from rushes.events.v1 import events_pb2
from rushes_events import Delivery, EventBus, FailureMap, StageIdentity, run_stage_job
from rushes_inference import InferenceError, ModelUnavailable
from rushes_storage import ObjectNotFound, StorageUnavailable

from rushes_asr.audio import AudioError
from rushes_asr.job import STAGE, AsrJob
from rushes_asr.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
INGESTED = "rushes.v1.asset.ingested"


IDENTITY = StageIdentity(STAGE, PRODUCER, VERSION)
# The asset's own audio unusable (or refused by the model): recorded; ours: retried.
FAILURES = FailureMap(
    asset=(AudioError, InferenceError),
    missing=(ObjectNotFound,),
    transient=(StorageUnavailable, ModelUnavailable),
)


class AsrHandler:
    def __init__(self, job: AsrJob, bus: EventBus) -> None:
        self.job = job
        self.bus = bus

    async def __call__(self, delivery: Delivery) -> None:
        result = await run_stage_job(
            self.bus, delivery, IDENTITY, events_pb2.AssetIngested, self.job.run, FAILURES
        )
        log.info(
            "transcribed %s: %d words%s", result.envelope.asset_id, len(result.transcript.words),
            f" ({result.skipped_reason})" if result.skipped_reason else "",
        )  # fmt: skip
