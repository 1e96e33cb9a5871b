"""Builders of well-formed events for the library's tests (no rushes_events needed for pure tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
ASSET_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def ts(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def envelope(
    event_type: str, *, asset_id: str = ASSET_ID, project: str = "feature", time: datetime = T0
) -> events_pb2.Envelope:
    return events_pb2.Envelope(
        id=str(uuid.uuid4()),
        type=event_type,
        asset_id=asset_id,
        producer="ingest",
        producer_version="0.1.0",
        time=ts(time),
        trace_id="trace-" + asset_id[:8],
        project=project,
    )


def run(stage: str, started: datetime, finished: datetime) -> events_pb2.StageRun:
    return events_pb2.StageRun(stage=stage, started_at=ts(started), finished_at=ts(finished))


def ingested(
    *, asset_id: str = ASSET_ID, project: str = "feature", finished_s: float = 5.0
) -> events_pb2.AssetIngested:
    return events_pb2.AssetIngested(
        envelope=envelope(
            "rushes.v1.asset.ingested", asset_id=asset_id, project=project, time=at(finished_s)
        ),
        source=asset_pb2.Source(filename="A001_C002.mov", bytes=123456, sha256="ab" * 32),
        technical=asset_pb2.Technical(
            duration_s=12.5,
            width=1920,
            height=1080,
            fps=25.0,
            frame_count=312,
            sample_aspect_ratio="1:1",
            video_codec="h264",
            pix_fmt="yuv420p",
            bit_depth=8,
            timecode="01:00:00:00",
            has_video=True,
            audio=[asset_pb2.AudioStream(codec="aac", channels=2, sample_rate=48000)],
            camera=asset_pb2.Camera(make="ARRI", model="ALEXA 35"),
        ),
        objects={
            "original": f"assets/{asset_id}/original.mov",
            "proxy": f"assets/{asset_id}/proxy.mp4",
        },
        run=run("ingest", at(finished_s - 5.0), at(finished_s)),
        bucket="rushes",
    )


def rejected(*, asset_id: str = ASSET_ID, time_s: float = 1.0) -> events_pb2.AssetRejected:
    return events_pb2.AssetRejected(
        envelope=envelope("rushes.v1.asset.rejected", asset_id=asset_id, time=at(time_s)),
        source=asset_pb2.Source(filename="notes.txt", bytes=42, sha256="cd" * 32),
        reason_code="not_media",
        reason="no audio or video stream found",
    )


def stage_started(
    stage: str, *, started_s: float, attempt: int = 0, asset_id: str = ASSET_ID
) -> events_pb2.StageStarted:
    return events_pb2.StageStarted(
        envelope=envelope("rushes.v1.asset.stage_started", asset_id=asset_id, time=at(started_s)),
        stage=stage,
        started_at=ts(at(started_s)),
        attempt=attempt,
    )


def stage_failed(stage: str, *, finished_s: float, error: str = "decoder crashed") -> events_pb2.StageFailed:
    return events_pb2.StageFailed(
        envelope=envelope("rushes.v1.asset.stage_failed", time=at(finished_s)),
        stage=stage,
        error=error,
        run=run(stage, at(finished_s - 1.0), at(finished_s)),
    )


def dead_letter(stage: str, *, time_s: float, asset_id: str = ASSET_ID) -> events_pb2.DeadLetter:
    return events_pb2.DeadLetter(
        envelope=envelope(f"rushes.v1.dlq.{stage}", asset_id=asset_id, time=at(time_s)),
        stage=stage,
        original_subject="rushes.v1.asset.ingested",
        stream_sequence=17,
        deliveries=5,
        reason="handler raised ValueError: bad frame",
        original_data=b"\x00" * 100,
    )
