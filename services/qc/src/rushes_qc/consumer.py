"""The JetStream side of QC: rushes.v1.asset.enhanced in, asset.qc out.

A rendition's own faults are verdicts inside the event (the job records them); only our faults
(storage, the bus) are retried, and a message of the wrong type is poison.
"""

from __future__ import annotations

import logging

from rushes.events.v1 import events_pb2
from rushes_events import Delivery, EventBus, FailureMap, StageIdentity, run_stage_job
from rushes_storage import StorageUnavailable

from rushes_qc.job import STAGE, QcJob
from rushes_qc.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
ENHANCED = "rushes.v1.asset.enhanced"


IDENTITY = StageIdentity(STAGE, PRODUCER, VERSION)
# A rendition's own faults are verdicts inside the event (the job records them): only ours retry.
FAILURES = FailureMap(transient=(StorageUnavailable,))


class QcHandler:
    def __init__(self, job: QcJob, bus: EventBus) -> None:
        self.job = job
        self.bus = bus

    async def __call__(self, delivery: Delivery) -> None:
        async def check(event: events_pb2.AssetEnhanced) -> events_pb2.AssetQc:
            return await self.job.run(event, input_sequence=delivery.stream_seq)

        result = await run_stage_job(self.bus, delivery, IDENTITY, events_pb2.AssetEnhanced, check, FAILURES)
        log.info(
            "qc %s: %s (%d renditions)%s", result.envelope.asset_id, result.verdict or "skipped",
            len(result.renditions), f" ({result.skipped_reason})" if result.skipped_reason else "",
        )  # fmt: skip
