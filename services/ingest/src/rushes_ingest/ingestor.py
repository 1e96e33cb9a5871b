"""One ingest from start to announcement: dedupe, probe, store, publish, finalize.

Transport-agnostic: the gRPC servicer calls it with a local file; it raises MediaRejected (the
file's fault, already announced on rushes.v1.asset.rejected), StorageUnavailable or
EventBusUnavailable (ours: nothing left behind, the caller may retry).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from google.protobuf.message import Message
from rushes.events.v1 import events_pb2
from rushes_events import EventBusUnavailable, message_id, new_envelope, stage_run
from rushes_media import MediaRejected, validate_filename
from rushes_metrics import FOOTAGE_SECONDS_PROCESSED, PROCESSED_TOTAL, STAGE_DURATION

from rushes_ingest.pipeline import IngestOutcome, IngestPipeline, asset_id_for
from rushes_ingest.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
STAGE = "ingest"
INGESTED = "rushes.v1.asset.ingested"
REJECTED = "rushes.v1.asset.rejected"


class Publisher(Protocol):
    async def publish(self, event: Message, *, msg_id: str, subject: str | None = None) -> bool: ...


@dataclass
class IngestRequest:
    path: Path
    filename: str
    sha256: str
    project: str = ""
    trace_id: str | None = None


class Ingestor:
    def __init__(self, pipeline: IngestPipeline, publisher: Publisher, *, job_timeout_s: float) -> None:
        self.pipeline = pipeline
        self.publisher = publisher
        self.job_timeout_s = job_timeout_s

    async def ingest(self, request: IngestRequest) -> IngestOutcome:
        started = time.monotonic()
        try:
            outcome = await asyncio.wait_for(self._ingest(request), timeout=self.job_timeout_s)
        except MediaRejected:
            PROCESSED_TOTAL.labels(stage=STAGE, result="rejected").inc()
            raise
        except TimeoutError:
            PROCESSED_TOTAL.labels(stage=STAGE, result="failed").inc()
            raise MediaRejected(
                "job_timeout", f"ingest took longer than the {self.job_timeout_s:g} s job limit"
            ) from None
        except Exception:
            PROCESSED_TOTAL.labels(stage=STAGE, result="failed").inc()
            raise
        if not outcome.duplicate:
            PROCESSED_TOTAL.labels(stage=STAGE, result="ok").inc()
            STAGE_DURATION.labels(stage=STAGE).observe(time.monotonic() - started)
            FOOTAGE_SECONDS_PROCESSED.labels(stage=STAGE).inc(outcome.technical.duration_s)
        return outcome

    async def _ingest(self, request: IngestRequest) -> IngestOutcome:
        asset_id = asset_id_for(request.sha256)
        try:
            filename = validate_filename(request.filename)
        except MediaRejected as rejected:
            await self._announce_rejection(request, asset_id, rejected)
            raise
        existing = await asyncio.to_thread(self.pipeline.existing, asset_id)
        if existing is not None:
            log.info("asset %s already ingested (%s): nothing to do", asset_id, filename)
            return existing
        try:
            technical = await asyncio.to_thread(self.pipeline.probe, request.path)
            outcome = await asyncio.to_thread(
                self.pipeline.run,
                request.path,
                filename=filename,
                sha256_hex=request.sha256,
                technical=technical,
            )
        except MediaRejected as rejected:
            await self._announce_rejection(request, asset_id, rejected)
            raise
        event = events_pb2.AssetIngested(
            envelope=new_envelope(
                INGESTED,
                asset_id=asset_id,
                producer=PRODUCER,
                producer_version=VERSION,
                project=request.project,
                trace_id=request.trace_id,
            ),
            source=outcome.source,
            technical=outcome.technical,
            objects=outcome.objects,
            run=stage_run(STAGE, outcome.started_at, outcome.finished_at),
            bucket=self.pipeline.store.bucket,
        )
        try:
            await self.publisher.publish(event, msg_id=message_id(asset_id, STAGE, request.sha256))
        except Exception as exc:
            await asyncio.to_thread(self.pipeline.discard, list(outcome.objects.values()))
            raise EventBusUnavailable(f"could not announce the ingest on the event bus: {exc}") from exc
        # The manifest is written last: a crash before it means the next attempt redoes the
        # (deterministic, idempotent) work and republishes under the same Nats-Msg-Id.
        await asyncio.to_thread(self.pipeline.finalize, outcome)
        return outcome

    async def _announce_rejection(
        self, request: IngestRequest, asset_id: str, rejected: MediaRejected
    ) -> None:
        source_name = request.filename if request.filename.isprintable() else repr(request.filename)
        event = events_pb2.AssetRejected(
            envelope=new_envelope(
                REJECTED,
                asset_id=asset_id,
                producer=PRODUCER,
                producer_version=VERSION,
                project=request.project,
                trace_id=request.trace_id,
            ),
            source={"filename": source_name[:255], "bytes": _size(request.path), "sha256": request.sha256},
            reason_code=rejected.code,
            reason=rejected.reason,
        )
        try:
            await self.publisher.publish(
                event, msg_id=message_id(asset_id, "ingest-rejected", f"{request.sha256}:{rejected.code}")
            )
        except Exception:
            # The caller still gets the rejection; only subscribers miss it.
            log.warning("could not announce the rejection of %s", asset_id, exc_info=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
