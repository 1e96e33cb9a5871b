"""The JetStream side of tagging: rushes.v1.asset.ingested in, asset.tagged (or stage_failed) out."""

from __future__ import annotations

import asyncio
import logging

from rushes.events.v1 import events_pb2
from rushes_events import (
    AssetFailed,
    Delivery,
    EventBus,
    PoisonMessage,
    TransientError,
    announce_stage_failed,
    announce_stage_started,
)
from rushes_inference import InferenceError, ModelUnavailable
from rushes_media import MediaRejected
from rushes_storage import ObjectNotFound, StorageUnavailable

from rushes_tagging.job import STAGE, TaggingJob
from rushes_tagging.presets import Preset
from rushes_tagging.tag_store import TagStore
from rushes_tagging.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
INGESTED = "rushes.v1.asset.ingested"
# The first tags of an asset are always version 1: a redelivered ingest event reuses them.
FIRST_VERSION = 1


class TaggingHandler:
    def __init__(self, job: TaggingJob, bus: EventBus, preset: Preset) -> None:
        self.job = job
        self.bus = bus
        self.preset = preset
        self.tag_store = TagStore(job.store)

    async def __call__(self, delivery: Delivery) -> None:
        event = delivery.event
        if not isinstance(event, events_pb2.AssetIngested):
            raise PoisonMessage(f"tagging consumes {INGESTED}, got {delivery.subject}")
        asset_id = event.envelope.asset_id
        if "original" not in event.objects:
            raise PoisonMessage(f"asset {asset_id}: the ingested event names no original object")
        await self._announce_start(event, delivery.num_delivered)
        try:
            await self._store_input(event)
            outcome = await self.job.run(event, self.preset, FIRST_VERSION)
        except MediaRejected as exc:
            # The asset's own fault (decode error mid-file, ...): a recorded per-asset failure, not a retry.
            await self._announce_failure(event, f"{exc.code}: {exc.reason}")
            raise AssetFailed(f"asset {asset_id}: {exc.code}: {exc.reason}") from exc
        except ObjectNotFound as exc:
            raise PoisonMessage(f"asset {asset_id}: object {exc} is missing from the store") from None
        except (StorageUnavailable, ModelUnavailable) as exc:
            raise TransientError(f"asset {asset_id}: {exc}") from exc
        except InferenceError as exc:
            await self._announce_failure(event, f"face detector refused the input: {exc}")
            raise AssetFailed(f"asset {asset_id}: face detector refused the input: {exc}") from exc
        log.info(
            "tagged %s: %d shots%s",
            asset_id,
            len(outcome.event.shots),
            " (republished)" if outcome.republished else "",
        )

    async def _store_input(self, event: events_pb2.AssetIngested) -> None:
        await asyncio.to_thread(self.tag_store.save_input, event)

    async def _announce_start(self, event: events_pb2.AssetIngested, attempt: int) -> None:
        await announce_stage_started(
            self.bus, event.envelope, stage=STAGE, attempt=attempt, producer=PRODUCER, version=VERSION
        )

    async def _announce_failure(self, event: events_pb2.AssetIngested, error: str) -> None:
        log.warning("tagging failed for %s: %s", event.envelope.asset_id, error)
        await announce_stage_failed(
            self.bus, event.envelope, stage=STAGE, error=error, producer=PRODUCER, version=VERSION
        )
