"""From one event to the changes the catalog applies: an audit record and a new asset state.

Pure: no SQL, no NATS. Each event type has an `EventRule` (how to summarise it for the audit log,
and how it moves the asset record). Later stages need no change here: any registered event that
carries a `run` (StageRun) marks that stage complete. Issues that add richer records (shots, tags,
transcripts...) register their own rule with `register_rule`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from rushes.events.v1 import events_pb2

from rushes_library.state import AssetState, FinishedStatusName, stage_finished, stage_started

EVENT_PREFIX = "rushes.v1."
DLQ_PREFIX = "rushes.v1.dlq."
OWN_STAGE = "library"
OWN_DLQ_SUBJECT = DLQ_PREFIX + OWN_STAGE

INGESTED = "rushes.v1.asset.ingested"
REJECTED = "rushes.v1.asset.rejected"
STAGE_STARTED = "rushes.v1.asset.stage_started"
STAGE_FAILED = "rushes.v1.asset.stage_failed"

MAX_ASSET_ID_CHARS = 256
_STAGE_RUN = events_pb2.StageRun.DESCRIPTOR.full_name


class InvalidEvent(ValueError):
    """The event parsed but breaks its contract (no id, no asset, no stage): it is poison."""


@dataclass(frozen=True)
class AuditRecord:
    """One row of the append-only audit log."""

    asset_id: str | None
    time: datetime
    event_type: str
    event_id: str
    producer: str
    producer_version: str
    principal: str
    trace_id: str
    summary: str
    data: Mapping[str, Any]


Summarize = Callable[[Any], str]
Apply = Callable[[Any, AssetState], AssetState]


@dataclass(frozen=True)
class EventRule:
    """How one event type is recorded. `apply` None: the event only goes to the audit log."""

    summarize: Summarize
    apply: Apply | None = None


@dataclass(frozen=True)
class Projection:
    """What handling one event means for the catalog."""

    audit: AuditRecord
    apply: Callable[[AssetState], AssetState] | None

    @property
    def asset_id(self) -> str | None:
        return self.audit.asset_id


def project(subject: str, event: Message, *, received_at: datetime) -> Projection:
    """Turn a decoded event into its audit record and its state change.

    `received_at` stands in for the event time when the producer left the envelope time unset.
    Raises InvalidEvent when the event cannot be recorded faithfully.
    """
    envelope = _envelope_of(subject, event)
    if not envelope.id:
        raise InvalidEvent(f"{subject}: envelope.id is empty; events must carry a unique id")
    rule = rule_for(subject, event)
    asset_id = _checked_asset_id(subject, envelope)
    apply_rule = rule.apply
    if asset_id is None and apply_rule is not None:
        if not subject.startswith(DLQ_PREFIX):
            raise InvalidEvent(f"{subject} (event {envelope.id}): envelope.asset_id is empty")
        # A dead letter of a message too garbled to name its asset: nothing to mark failed.
        apply_rule = None
    audit = AuditRecord(
        asset_id=asset_id,
        time=timestamp_or_none(envelope.time) or received_at,
        event_type=subject,
        event_id=envelope.id,
        producer=envelope.producer,
        producer_version=envelope.producer_version,
        principal=_string_field(event, "principal"),
        trace_id=envelope.trace_id,
        summary=rule.summarize(event),
        data=event_data(event),
    )
    if apply_rule is None:
        return Projection(audit=audit, apply=None)
    rule_apply: Apply = apply_rule

    def apply(state: AssetState) -> AssetState:
        if not state.project and envelope.project:
            state = replace(state, project=envelope.project)
        return rule_apply(event, state)

    return Projection(audit=audit, apply=apply)


# --- the rule table ---------------------------------------------------------------------------------

_RULES: dict[str, EventRule] = {}


def register_rule(event_type: str, rule: EventRule) -> None:
    """Teach the library a new event type (full subject, e.g. "rushes.v1.asset.tagged")."""
    if not event_type.startswith(EVENT_PREFIX):
        raise ValueError(f"event type {event_type!r} must start with {EVENT_PREFIX!r}")
    _RULES[event_type] = rule


def rule_for(subject: str, event: Message) -> EventRule:
    """The registered rule, else the DLQ rule, else "a run means that stage completed", else audit only."""
    rule = _RULES.get(subject)
    if rule is not None:
        return rule
    if subject == OWN_DLQ_SUBJECT:
        # The library's own dead letters are recorded, never applied: the asset's processing did not
        # fail, the catalog missed an event, and re-handling it would loop (see consumer.py).
        return EventRule(summarize=_summarize_dead_letter)
    if subject.startswith(DLQ_PREFIX):
        return EventRule(summarize=_summarize_dead_letter, apply=_apply_dead_letter(subject))
    if _carries_run(event):
        return EventRule(summarize=_summarize_stage_run, apply=_apply_stage_run)
    return EventRule(summarize=lambda _event: subject.removeprefix(EVENT_PREFIX))


# --- asset.ingested ---------------------------------------------------------------------------------


def _apply_ingested(event: events_pb2.AssetIngested, state: AssetState) -> AssetState:
    stage = event.run.stage or "ingest"
    state = replace(
        state,
        project=event.envelope.project or state.project,
        source=message_to_json(event.source),
        technical=message_to_json(event.technical),
        objects={**state.objects, **dict(event.objects)},
        # Ingested after an earlier rejection (say the limits were raised): the bytes are now stored.
        rejected=False,
        rejection_reason="",
    )
    return _finish(state, stage, "complete", event.run)


def _summarize_ingested(event: events_pb2.AssetIngested) -> str:
    tech = event.technical
    shape = f"{tech.width}x{tech.height}, {tech.duration_s:.2f} s" if tech.has_video else "no video"
    return f"ingested {event.source.filename or '(unnamed)'} ({shape}, {len(event.objects)} objects)"


# --- asset.rejected ---------------------------------------------------------------------------------


def _apply_rejected(event: events_pb2.AssetRejected, state: AssetState) -> AssetState:
    if "ingest" in state.stages and state.stages["ingest"].status == "complete":
        # The same bytes were already ingested; a later refusal (a re-upload under tighter limits)
        # must not erase a stored asset. The audit log keeps the rejection.
        return state
    reason = _rejection_reason(event)
    state = replace(
        state,
        project=event.envelope.project or state.project,
        source=message_to_json(event.source),
        rejected=True,
        rejection_reason=reason,
    )
    when = timestamp_or_none(event.envelope.time)
    return _apply_finish(state, "ingest", "failed", started_at=None, finished_at=when, error=reason)


def _rejection_reason(event: events_pb2.AssetRejected) -> str:
    if event.reason_code and event.reason:
        return f"{event.reason_code}: {event.reason}"
    return event.reason or event.reason_code or "rejected (no reason given)"


def _summarize_rejected(event: events_pb2.AssetRejected) -> str:
    return f"rejected {event.source.filename or '(unnamed)'}: {_rejection_reason(event)}"


# --- stage_started / stage_failed -------------------------------------------------------------------


def _apply_stage_started(event: events_pb2.StageStarted, state: AssetState) -> AssetState:
    stage = _require_stage(event.stage, event)
    started_at = timestamp_or_none(event.started_at) or timestamp_or_none(event.envelope.time)
    new = stage_started(state.stages.get(stage), started_at=started_at, attempt=event.attempt)
    return state if new is None else state.with_stage(stage, new)


def _summarize_stage_started(event: events_pb2.StageStarted) -> str:
    attempt = f" (attempt {event.attempt})" if event.attempt else ""
    return f"{event.stage or '?'} started{attempt}"


def _apply_stage_failed(event: events_pb2.StageFailed, state: AssetState) -> AssetState:
    stage = _require_stage(event.stage or event.run.stage, event)
    error = event.error or "failed (no error given)"
    finished_at = timestamp_or_none(event.run.finished_at) or timestamp_or_none(event.envelope.time)
    started_at = timestamp_or_none(event.run.started_at)
    return _apply_finish(state, stage, "failed", started_at=started_at, finished_at=finished_at, error=error)


def _summarize_stage_failed(event: events_pb2.StageFailed) -> str:
    return f"{event.stage or event.run.stage or '?'} failed: {event.error or '(no error given)'}"


# --- dlq.<stage> ------------------------------------------------------------------------------------


def _apply_dead_letter(subject: str) -> Apply:
    stage = subject.removeprefix(DLQ_PREFIX)

    def apply(event: events_pb2.DeadLetter, state: AssetState) -> AssetState:
        reason = f"dead-lettered after {event.deliveries} deliveries: {event.reason or 'no reason given'}"
        when = timestamp_or_none(event.envelope.time)
        return _apply_finish(state, stage, "failed", started_at=None, finished_at=when, error=reason)

    return apply


def _summarize_dead_letter(event: events_pb2.DeadLetter) -> str:
    return (
        f"{event.stage or '?'} dead-lettered {event.original_subject or '?'} "
        f"(stream seq {event.stream_sequence}, {event.deliveries} deliveries): {event.reason}"
    )


# --- any event with a run: that stage completed ---------------------------------------------------


def _carries_run(event: Message) -> bool:
    field = event.DESCRIPTOR.fields_by_name.get("run")
    return (
        field is not None
        and field.type == FieldDescriptor.TYPE_MESSAGE
        and field.message_type.full_name == _STAGE_RUN
        and event.HasField("run")
    )


def _apply_stage_run(event: Any, state: AssetState) -> AssetState:
    run: events_pb2.StageRun = event.run
    stage = _require_stage(run.stage, event)
    return _finish(state, stage, "complete", run)


def _summarize_stage_run(event: Any) -> str:
    return f"{event.run.stage or '?'} complete"


# --- helpers ----------------------------------------------------------------------------------------


def _finish(
    state: AssetState, stage: str, status: FinishedStatusName, run: events_pb2.StageRun
) -> AssetState:
    return _apply_finish(
        state,
        stage,
        status,
        started_at=timestamp_or_none(run.started_at),
        finished_at=timestamp_or_none(run.finished_at),
    )


def _apply_finish(
    state: AssetState,
    stage: str,
    status: FinishedStatusName,
    *,
    started_at: datetime | None,
    finished_at: datetime | None,
    error: str = "",
) -> AssetState:
    new = stage_finished(
        state.stages.get(stage), status=status, started_at=started_at, finished_at=finished_at, error=error
    )
    return state if new is None else state.with_stage(stage, new)


def _require_stage(stage: str, event: Any) -> str:
    if not stage:
        raise InvalidEvent(f"{event.envelope.type or type(event).__name__}: the stage name is empty")
    return stage


def _envelope_of(subject: str, event: Message) -> events_pb2.Envelope:
    field = event.DESCRIPTOR.fields_by_name.get("envelope")
    if field is None or field.message_type is not events_pb2.Envelope.DESCRIPTOR:
        raise InvalidEvent(f"{subject}: {type(event).__name__} has no envelope")
    envelope: events_pb2.Envelope = getattr(event, "envelope")  # noqa: B009 - dynamic message type
    return envelope


def _checked_asset_id(subject: str, envelope: events_pb2.Envelope) -> str | None:
    asset_id = envelope.asset_id
    if not asset_id:
        return None
    if len(asset_id) > MAX_ASSET_ID_CHARS or not asset_id.isprintable() or asset_id.strip() != asset_id:
        raise InvalidEvent(
            f"{subject} (event {envelope.id}): envelope.asset_id {asset_id[:80]!r} is not a valid asset id "
            f"(printable, no surrounding spaces, at most {MAX_ASSET_ID_CHARS} characters)"
        )
    return asset_id


def _string_field(event: Message, name: str) -> str:
    field = event.DESCRIPTOR.fields_by_name.get(name)
    if field is None or field.type != FieldDescriptor.TYPE_STRING:
        return ""
    return str(getattr(event, name))


def timestamp_or_none(ts: Timestamp) -> datetime | None:
    """A proto Timestamp as an aware UTC datetime; None when unset (the zero timestamp)."""
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return ts.ToDatetime(tzinfo=UTC)


def message_to_json(message: Message) -> dict[str, Any]:
    """The proto's JSON form with proto field names and every field present (the record contract)."""
    return MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def event_data(event: Message) -> dict[str, Any]:
    """The event as JSON for the audit log, minus the envelope (stored in columns) and raw bytes."""
    data = MessageToDict(event, preserving_proto_field_name=True)
    data.pop("envelope", None)
    for field in event.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_BYTES and field.name in data:
            # Payload copies (a DeadLetter's original_data) would bloat an append-only table.
            data[field.name] = f"<{len(getattr(event, field.name))} bytes omitted>"
    return data


register_rule(INGESTED, EventRule(summarize=_summarize_ingested, apply=_apply_ingested))
register_rule(REJECTED, EventRule(summarize=_summarize_rejected, apply=_apply_rejected))
register_rule(STAGE_STARTED, EventRule(summarize=_summarize_stage_started, apply=_apply_stage_started))
register_rule(STAGE_FAILED, EventRule(summarize=_summarize_stage_failed, apply=_apply_stage_failed))

# Public name for the stage rules of later issues (rushes_library.stage_rules).
finish_stage = _finish
