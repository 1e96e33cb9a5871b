"""The JetStream side of grading.

Grading keeps its own view of every asset (ingested / tagged / rejected events, see store.py), so
requests never depend on another service. When a tagged asset belongs to a project with a
reference look, the handler grades it and publishes rushes.v1.asset.graded. Grading is not a
pipeline stage: an asset the matcher cannot handle (HDR, no video) gets a graded event with a
skipped_reason, never a stage failure that would mark the asset failed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from rushes.events.v1 import events_pb2
from rushes_events import AssetFailed, Delivery, PoisonMessage, TransientError
from rushes_media import MediaRejected
from rushes_storage import ObjectNotFound, StorageUnavailable

from rushes_grading.errors import GradingRefused
from rushes_grading.job import GradingJob

log = logging.getLogger(__name__)
INGESTED: Final = "rushes.v1.asset.ingested"
TAGGED: Final = "rushes.v1.asset.tagged"
REJECTED: Final = "rushes.v1.asset.rejected"
SUBJECTS: Final = [INGESTED, TAGGED, REJECTED]


class GradingHandler:
    def __init__(self, job: GradingJob) -> None:
        self.job = job

    async def __call__(self, delivery: Delivery) -> None:
        event = delivery.event
        if isinstance(event, events_pb2.AssetIngested):
            await asyncio.to_thread(self.job.grades.save_event, "ingested", event)
        elif isinstance(event, events_pb2.AssetRejected):
            return  # nothing of a rejected file is stored anywhere, grading's view included
        elif isinstance(event, events_pb2.AssetTagged):
            await self._tagged(event)
        else:
            raise PoisonMessage(f"grading consumes {', '.join(SUBJECTS)}, got {delivery.subject}")

    async def _tagged(self, event: events_pb2.AssetTagged) -> None:
        asset_id = event.envelope.asset_id
        try:
            if event.tags_version >= await asyncio.to_thread(self.job.grades.tags_version, asset_id):
                await asyncio.to_thread(self.job.grades.save_event, "tagged", event)
            graded = await self.job.grade_for_project(event)
        except GradingRefused as exc:
            if exc.kind == "not_found":  # tagged overtook ingested: retry once the view is complete
                raise TransientError(f"asset {asset_id}: {exc.message}") from exc
            raise AssetFailed(f"asset {asset_id}: {exc.message}") from exc
        except MediaRejected as exc:
            raise AssetFailed(f"asset {asset_id}: {exc.code}: {exc.reason}") from exc
        except ObjectNotFound as exc:
            # The ingested event not seen yet (or the proxy missing): retry, it may be on its way.
            raise TransientError(f"asset {asset_id}: {exc}") from exc
        except StorageUnavailable as exc:
            raise TransientError(f"asset {asset_id}: {exc}") from exc
        if graded is not None:
            log.info(
                "graded %s toward project %s: %d shots%s",
                asset_id,
                event.envelope.project,
                len(graded.grades),
                f" (skipped: {graded.skipped_reason})" if graded.skipped_reason else "",
            )
