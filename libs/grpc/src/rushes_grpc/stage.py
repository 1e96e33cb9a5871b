"""What every stage service opens at start, in one place: its stage's metric labels, the bucket,
the event bus with the stream, its spool folder, and its durable consumer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from rushes_config import RushesSettings
from rushes_events import Consumer, EventBus
from rushes_events.consumer import Handler
from rushes_metrics import init_stage_labels
from rushes_storage import ObjectStore

from rushes_grpc.dependency_watch import Check


@dataclass(frozen=True)
class StageConnections:
    stage: str
    settings: RushesSettings
    store: ObjectStore
    bus: EventBus
    work_dir: Path  # the stage's own spool folder under the state dir, for temporary media

    def consumer(self, filter_subjects: Sequence[str], handler: Handler, *, max_ack_pending: int) -> Consumer:
        """The stage's durable pull consumer (durable named after the stage, shared by its replicas)."""
        return Consumer(
            self.bus,
            stage=self.stage,
            durable=self.stage,
            filter_subjects=list(filter_subjects),
            handler=handler,
            settings=self.settings.nats,
            max_ack_pending=max_ack_pending,
        )

    def dependencies(self, more: Mapping[str, Check] | None = None) -> dict[str, Check]:
        """Health checks of NATS and S3, plus the stage's own (e.g. its Triton model)."""
        return {"nats": self.bus.reachable, "s3": self.store.reachable, **(more or {})}


@asynccontextmanager
async def stage_connections(settings: RushesSettings, stage: str) -> AsyncIterator[StageConnections]:
    """Open what `stage` needs (the bucket created if missing, the stream brought up to date) and
    close the bus on the way out, whatever happened in between."""
    init_stage_labels(stage)
    store = ObjectStore(settings.s3)
    await asyncio.to_thread(store.ensure_bucket)
    bus = await EventBus.connect(settings.nats, name=stage)
    try:
        await bus.ensure_stream(update=False)  # creates it if missing; changes are an operator's
        work_dir = Path(settings.state_dir) / "spool" / stage
        work_dir.mkdir(parents=True, exist_ok=True)
        yield StageConnections(stage, settings, store, bus, work_dir)
    finally:
        await bus.close()
