"""The progress events every stage publishes about an asset it is working on.

`rushes.v1.asset.stage_started` when a delivery begins and `rushes.v1.asset.stage_failed` when the
asset itself cannot be processed (a recorded per-asset failure, as opposed to a retry).

A start is announced once per triggering event, like the completion it precedes: its Nats-Msg-Id
names the trigger, not the attempt. A redelivery (a worker killed after it announced its result)
republishes the same completion, which JetStream drops as a duplicate; a second start for it
would reach subscribers and leave the stage "running" in the catalog for good.
"""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from rushes.events.v1 import events_pb2

from rushes_events.bus import EventBus
from rushes_events.registry import new_envelope
from rushes_events.subjects import message_id

STAGE_STARTED = "rushes.v1.asset.stage_started"
STAGE_FAILED = "rushes.v1.asset.stage_failed"


def stage_run(stage: str, started_s: float, finished_s: float) -> events_pb2.StageRun:
    """When `stage` ran, from Unix times in seconds (what every stage's completion event carries)."""
    run = events_pb2.StageRun(stage=stage)
    run.started_at.FromNanoseconds(int(started_s * 1e9))
    run.finished_at.FromNanoseconds(int(finished_s * 1e9))
    return run


async def announce_stage_started(
    bus: EventBus, cause: events_pb2.Envelope, *, stage: str, attempt: int, producer: str, version: str
) -> None:
    """`cause` is the envelope of the event being processed (asset, project and trace carry over)."""
    started = Timestamp()
    started.GetCurrentTime()
    event = events_pb2.StageStarted(
        envelope=follow_up_envelope(STAGE_STARTED, cause, producer, version),
        stage=stage,
        started_at=started,
        attempt=attempt,
    )
    trigger = cause.id or f"attempt-{attempt}"  # an envelope without an id: one start per attempt
    await bus.publish(event, msg_id=message_id(cause.asset_id, f"{stage}-started", trigger))


async def announce_stage_failed(
    bus: EventBus, cause: events_pb2.Envelope, *, stage: str, error: str, producer: str, version: str,
    input_version: str = "v1",
) -> None:  # fmt: skip
    event = events_pb2.StageFailed(
        envelope=follow_up_envelope(STAGE_FAILED, cause, producer, version), stage=stage, error=error
    )
    await bus.publish(event, msg_id=message_id(cause.asset_id, f"{stage}-failed", input_version))


def follow_up_envelope(
    event_type: str, cause: events_pb2.Envelope, producer: str, version: str, *, trace_id: str | None = None
) -> events_pb2.Envelope:
    """The envelope of an event caused by `cause`: same asset, project and trace (unless given)."""
    return new_envelope(
        event_type,
        asset_id=cause.asset_id,
        producer=producer,
        producer_version=version,
        project=cause.project,
        trace_id=trace_id or cause.trace_id or None,
    )
