"""Which protobuf message travels on which subject, and how to build and decode events.

EVENT_TYPES is the one table to extend when a new event is added to proto/rushes/events/v1: add a
line `subject_for("asset.tagged"): events_pb2.AssetTagged` (or call `register_event_type` from the
module that owns the message). Keys are full subjects, or a pattern ending in ".>" for a family of
subjects that share one message (the dead-letter subjects, one per stage).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from google.protobuf.message import DecodeError, Message
from rushes.events.v1 import events_pb2
from rushes.events.v1.events_pb2 import Envelope

from rushes_events.errors import PoisonMessage
from rushes_events.subjects import DLQ_PREFIX, SUBJECT_PREFIX, is_rushes_subject, subject_for

EVENT_TYPES: dict[str, type[Message]] = {
    subject_for("asset.ingested"): events_pb2.AssetIngested,
    subject_for("asset.rejected"): events_pb2.AssetRejected,
    subject_for("asset.stage_started"): events_pb2.StageStarted,
    subject_for("asset.stage_failed"): events_pb2.StageFailed,
    subject_for("asset.tagged"): events_pb2.AssetTagged,
    subject_for("asset.reviewed"): events_pb2.AssetReviewed,
    subject_for("asset.transcribed"): events_pb2.AssetTranscribed,
    subject_for("asset.picked"): events_pb2.AssetPicked,
    subject_for("project.cut_assembled"): events_pb2.CutAssembled,
    subject_for("asset.graded"): events_pb2.AssetGraded,
    subject_for("asset.enhanced"): events_pb2.AssetEnhanced,
    subject_for("asset.qc"): events_pb2.AssetQc,
    DLQ_PREFIX + ">": events_pb2.DeadLetter,
}


def register_event_type(subject: str, message_class: type[Message]) -> None:
    """Add a subject (or "<prefix>.>" family) -> message class; re-registering the same pair is a no-op."""
    if not is_rushes_subject(subject) or "*" in subject or (">" in subject and not subject.endswith(".>")):
        raise ValueError(
            f"event subject {subject!r} must start with {SUBJECT_PREFIX!r}; "
            "only a trailing '.>' wildcard is allowed"
        )
    if "envelope" not in message_class.DESCRIPTOR.fields_by_name:
        raise ValueError(
            f"{message_class.__name__} has no 'envelope' field; every event carries one as field 1"
        )
    existing = EVENT_TYPES.get(subject)
    if existing is not None and existing is not message_class:
        raise ValueError(f"subject {subject!r} is already registered for {existing.__name__}")
    EVENT_TYPES[subject] = message_class


def event_class_for(subject: str) -> type[Message] | None:
    """The message class registered for a concrete subject (exact match first, then '.>' families)."""
    exact = EVENT_TYPES.get(subject)
    if exact is not None:
        return exact
    for pattern, message_class in EVENT_TYPES.items():
        if pattern.endswith(".>") and subject.startswith(pattern[:-1]) and len(subject) > len(pattern) - 1:
            return message_class
    return None


def decode_event(subject: str, data: bytes) -> Message:
    """Parse the payload of `subject`; raise PoisonMessage saying why when it cannot be an event."""
    message_class = event_class_for(subject)
    if message_class is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise PoisonMessage(
            f"no event type is registered for subject {subject!r} (known: {known}); "
            "add it to rushes_events.registry.EVENT_TYPES"
        )
    try:
        event = message_class.FromString(data)
    except (DecodeError, ValueError) as exc:
        raise PoisonMessage(
            f"payload on {subject!r} ({len(data)} bytes) is not a valid {message_class.__name__}: {exc}"
        ) from exc
    if not event.HasField("envelope"):
        raise PoisonMessage(f"{message_class.__name__} on {subject!r} has no envelope")
    return event


def new_envelope(
    event_type: str,
    *,
    asset_id: str,
    producer: str,
    producer_version: str,
    project: str = "",
    trace_id: str | None = None,
) -> Envelope:
    """A fresh envelope: new uuid4 id, time now (UTC), the caller's trace id or a new one.

    `event_type` is the full subject ("rushes.v1.asset.ingested") or its suffix ("asset.ingested").
    Pass the trace id of the triggering event so one clip's path can be followed across services.
    """
    full_type = event_type if event_type.startswith(SUBJECT_PREFIX) else subject_for(event_type)
    if event_class_for(full_type) is None:
        raise ValueError(f"event type {full_type!r} is not registered in rushes_events.registry.EVENT_TYPES")
    if not producer:
        raise ValueError("producer must name the publishing service")
    envelope = Envelope(
        id=str(uuid.uuid4()),
        type=full_type,
        asset_id=asset_id,
        producer=producer,
        producer_version=producer_version,
        trace_id=trace_id or uuid.uuid4().hex,
        project=project,
    )
    envelope.time.FromDatetime(datetime.now(UTC))
    return envelope
