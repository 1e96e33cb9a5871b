"""The JetStream side of ASR: rushes.v1.asset.ingested in, asset.transcribed (or stage_failed) out."""

from __future__ import annotations

import logging

from google.protobuf.timestamp_pb2 import Timestamp
from rushes.events.v1 import events_pb2
from rushes_events import Delivery, EventBus, PoisonMessage, TransientError, message_id, new_envelope
from rushes_inference import InferenceError, ModelUnavailable
from rushes_metrics import PROCESSED_TOTAL
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
        await self._publish_side("rushes.v1.asset.stage_started", event, attempt=delivery.num_delivered)
        try:
            result = await self.job.run(event)
        except (AudioError, InferenceError) as exc:
            # The asset's own audio is unusable (or refused by the model): a recorded failure, not a retry.
            PROCESSED_TOTAL.labels(stage=STAGE, result="failed").inc()
            log.warning("asr failed for %s: %s", asset_id, exc)
            await self._publish_side("rushes.v1.asset.stage_failed", event, error=str(exc))
            return
        except ObjectNotFound as exc:
            raise PoisonMessage(f"asset {asset_id}: object {exc} is missing from the store") from None
        except (StorageUnavailable, ModelUnavailable) as exc:
            raise TransientError(f"asset {asset_id}: {exc}") from exc
        log.info(
            "transcribed %s: %d words%s", asset_id, len(result.transcript.words),
            f" ({result.skipped_reason})" if result.skipped_reason else "",
        )  # fmt: skip

    async def _publish_side(
        self, event_type: str, event: events_pb2.AssetIngested, *, attempt: int = 0, error: str = ""
    ) -> None:
        envelope = new_envelope(
            event_type,
            asset_id=event.envelope.asset_id,
            producer=PRODUCER,
            producer_version=VERSION,
            project=event.envelope.project,
            trace_id=event.envelope.trace_id or None,
        )
        if event_type.endswith("stage_started"):
            started = Timestamp()
            started.GetCurrentTime()
            message = events_pb2.StageStarted(
                envelope=envelope, stage=STAGE, started_at=started, attempt=attempt
            )
            msg_id = message_id(event.envelope.asset_id, f"{STAGE}-started", str(attempt))
        else:
            message = events_pb2.StageFailed(envelope=envelope, stage=STAGE, error=error)
            msg_id = message_id(event.envelope.asset_id, f"{STAGE}-failed", "v1")
        await self.bus.publish(message, msg_id=msg_id)
