"""The JetStream side of picks: the inputs of the join in, asset.picked out.

Inputs: asset.ingested (the original, its timing and audio), asset.tagged, asset.transcribed, and
the failures of tagging and asr (asset.stage_failed, dlq.tagging, dlq.asr), so a failed upstream
stage ends the join with a result instead of leaving it waiting forever.
"""

from __future__ import annotations

import logging

from google.protobuf.message import Message
from rushes.events.v1 import events_pb2
from rushes_events import (
    Delivery,
    EventBus,
    PoisonMessage,
    TransientError,
    announce_stage_started,
)
from rushes_storage import StorageUnavailable

from rushes_picks.job import STAGE, PicksJob
from rushes_picks.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
INGESTED = "rushes.v1.asset.ingested"
TAGGED = "rushes.v1.asset.tagged"
TRANSCRIBED = "rushes.v1.asset.transcribed"
STAGE_FAILED = "rushes.v1.asset.stage_failed"
DLQ_TAGGING = "rushes.v1.dlq.tagging"
DLQ_ASR = "rushes.v1.dlq.asr"
FILTER_SUBJECTS = [INGESTED, TAGGED, TRANSCRIBED, STAGE_FAILED, DLQ_TAGGING, DLQ_ASR]
_UPSTREAM = {"tagging": "tagging-failed", "asr": "asr-failed"}


def input_of(subject: str, event: Message) -> tuple[str, Message] | None:
    """(join input kind, event to store) for a delivery; None for events picks does not wait on."""
    if subject == INGESTED and isinstance(event, events_pb2.AssetIngested):
        return "ingested", event
    if subject == TAGGED and isinstance(event, events_pb2.AssetTagged):
        return "tagged", event
    if subject == TRANSCRIBED and isinstance(event, events_pb2.AssetTranscribed):
        return "transcribed", event
    if subject == STAGE_FAILED and isinstance(event, events_pb2.StageFailed):
        kind = _UPSTREAM.get(event.stage)
        return (kind, event) if kind else None
    if subject in (DLQ_TAGGING, DLQ_ASR) and isinstance(event, events_pb2.DeadLetter):
        stage = subject.rsplit(".", 1)[-1]
        failed = events_pb2.StageFailed(
            envelope=event.envelope, stage=stage, error=f"dead-lettered: {event.reason or 'no reason given'}"
        )
        return _UPSTREAM[stage], failed
    raise PoisonMessage(f"picks does not consume {subject} ({type(event).__name__})")


class PicksHandler:
    def __init__(self, job: PicksJob, bus: EventBus) -> None:
        self.job = job
        self.bus = bus

    async def __call__(self, delivery: Delivery) -> None:
        found = input_of(delivery.subject, delivery.event)
        if found is None:
            return  # another stage's failure: nothing picks waits on
        kind, event = found
        asset_id = delivery.envelope.asset_id
        if not asset_id:
            if kind.endswith("-failed"):
                log.info("%s without an asset id ignored", delivery.subject)
                return
            raise PoisonMessage(f"{delivery.subject} has no envelope.asset_id")
        try:
            accepted = await self.job.accept(kind, event)
            if accepted.inputs is None:
                log.info("%s: %s stored; waiting for %s", asset_id, kind, ", ".join(accepted.waiting_for))
                return
            await announce_stage_started(
                self.bus, accepted.inputs.ingested.envelope, stage=STAGE, attempt=delivery.num_delivered,
                producer=PRODUCER, version=VERSION,
            )  # fmt: skip
            picked, republished = await self.job.pick(accepted.inputs)
        except StorageUnavailable as exc:
            raise TransientError(f"asset {asset_id}: {exc}") from exc
        log.info(
            "picked %s: %d takes%s%s", asset_id, len(picked.takes),
            f" ({picked.skipped_reason})" if picked.skipped_reason else "",
            " (republished)" if republished else "",
        )  # fmt: skip
