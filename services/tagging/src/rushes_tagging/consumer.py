"""The JetStream side of tagging: rushes.v1.asset.ingested in, asset.tagged (or stage_failed) out."""

from __future__ import annotations

import asyncio
import logging

from rushes.events.v1 import events_pb2
from rushes_events import Delivery, EventBus, FailureMap, PoisonMessage, StageIdentity, run_stage_job
from rushes_inference import InferenceError, ModelUnavailable
from rushes_media import MediaRejected
from rushes_storage import ObjectNotFound, StorageUnavailable

from rushes_tagging.job import STAGE, JobOutcome, TaggingJob
from rushes_tagging.presets import Preset
from rushes_tagging.tag_store import TagStore
from rushes_tagging.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
INGESTED = "rushes.v1.asset.ingested"
# The first tags of an asset are always version 1: a redelivered ingest event reuses them.
FIRST_VERSION = 1


IDENTITY = StageIdentity(STAGE, PRODUCER, VERSION)
# The asset's own fault (decode error mid-file, ...) or a frame the face detector refuses: recorded.
FAILURES = FailureMap(
    asset=(MediaRejected, InferenceError),
    missing=(ObjectNotFound,),
    transient=(StorageUnavailable, ModelUnavailable),
)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, MediaRejected):
        return f"{exc.code}: {exc.reason}"
    return f"face detector refused the input: {exc}"


class TaggingHandler:
    def __init__(self, job: TaggingJob, bus: EventBus, preset: Preset) -> None:
        self.job = job
        self.bus = bus
        self.preset = preset
        self.tag_store = TagStore(job.store)

    async def __call__(self, delivery: Delivery) -> None:
        event = delivery.event
        if isinstance(event, events_pb2.AssetIngested) and "original" not in event.objects:
            raise PoisonMessage(
                f"asset {event.envelope.asset_id}: the ingested event names no original object"
            )
        outcome = await run_stage_job(
            self.bus, delivery, IDENTITY, events_pb2.AssetIngested, self._tag, FAILURES, describe=_describe
        )
        log.info(
            "tagged %s: %d shots%s", outcome.event.envelope.asset_id, len(outcome.event.shots),
            " (republished)" if outcome.republished else "",
        )  # fmt: skip

    async def _tag(self, event: events_pb2.AssetIngested) -> JobOutcome:
        await asyncio.to_thread(self.tag_store.save_input, event)
        return await self.job.run(event, self.preset, FIRST_VERSION)
