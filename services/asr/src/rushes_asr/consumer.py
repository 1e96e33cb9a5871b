"""The JetStream side of ASR: rushes.v1.asset.ingested in, asset.transcribed (or stage_failed) out."""

from __future__ import annotations

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
from rushes_storage import ObjectNotFound, StorageUnavailable

from rushes_asr.audio import AudioError
from rushes_asr.job import STAGE, AsrJob
from rushes_asr.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
INGESTED = "rushes.v1.asset.ingested"


class AsrHandler:
    def __init__(self, job: AsrJob, bus: EventBus) -> None:
        self.job = job
        self.bus = bus

    async def __call__(self, delivery: Delivery) -> None:
        event = delivery.event
        if not isinstance(event, events_pb2.AssetIngested):
            raise PoisonMessage(f"asr consumes {INGESTED}, got {delivery.subject}")
        asset_id = event.envelope.asset_id
        await announce_stage_started(
            self.bus,
            event.envelope,
            stage=STAGE,
            attempt=delivery.num_delivered,
            producer=PRODUCER,
            version=VERSION,
        )
        try:
            result = await self.job.run(event)
        except (AudioError, InferenceError) as exc:
            # The asset's own audio is unusable (or refused by the model): a recorded failure, not a retry.
            log.warning("asr failed for %s: %s", asset_id, exc)
            await announce_stage_failed(
                self.bus, event.envelope, stage=STAGE, error=str(exc), producer=PRODUCER, version=VERSION
            )
            raise AssetFailed(f"asset {asset_id}: {exc}") from exc
        except ObjectNotFound as exc:
            raise PoisonMessage(f"asset {asset_id}: object {exc} is missing from the store") from None
        except (StorageUnavailable, ModelUnavailable) as exc:
            raise TransientError(f"asset {asset_id}: {exc}") from exc
        log.info(
            "transcribed %s: %d words%s", asset_id, len(result.transcript.words),
            f" ({result.skipped_reason})" if result.skipped_reason else "",
        )  # fmt: skip
