"""The JetStream side of enhance: rushes.v1.asset.tagged in, asset.enhanced (or stage_failed) out."""

from __future__ import annotations

import logging

from rushes.events.v1 import events_pb2
from rushes_events import Delivery, EventBus, FailureMap, StageIdentity, run_stage_job
from rushes_inference import InferenceError, ModelUnavailable
from rushes_media import MediaRejected
from rushes_storage import ObjectNotFound, StorageUnavailable

from rushes_enhance.fixes import EnhanceRequestError, SourceUnavailable
from rushes_enhance.job import STAGE, EnhanceJob
from rushes_enhance.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
TAGGED = "rushes.v1.asset.tagged"


IDENTITY = StageIdentity(STAGE, PRODUCER, VERSION)
# The asset's own fault (undecodable, no proxy, over the limits, refused by the model): recorded.
FAILURES = FailureMap(
    asset=(MediaRejected, SourceUnavailable, EnhanceRequestError, InferenceError),
    missing=(ObjectNotFound,),
    transient=(StorageUnavailable, ModelUnavailable),
)


def _describe(exc: BaseException) -> str:
    return f"{exc.code}: {exc.reason}" if isinstance(exc, MediaRejected) else str(exc)


def _input_version(event: events_pb2.AssetTagged) -> str:
    return f"tags-v{event.tags_version}"


class EnhanceHandler:
    def __init__(self, job: EnhanceJob, bus: EventBus) -> None:
        self.job = job
        self.bus = bus

    async def __call__(self, delivery: Delivery) -> None:
        result = await run_stage_job(
            self.bus, delivery, IDENTITY, events_pb2.AssetTagged, self.job.on_tagged, FAILURES,
            describe=_describe, input_version=_input_version,
        )  # fmt: skip
        log.info(
            "enhanced %s: %s", result.envelope.asset_id,
            ", ".join(f"{r.fix} v{r.version}" for r in result.renditions) or result.skipped_reason,
        )  # fmt: skip
