"""Pure logic of the event contract: subjects, message ids, the registry, envelopes, delays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rushes.events.v1 import events_pb2
from rushes_config import NatsSettings
from rushes_events import (
    EVENT_TYPES,
    PoisonMessage,
    consumer_config,
    decode_event,
    dlq_subject,
    event_class_for,
    message_id,
    nak_delay_s,
    new_envelope,
    register_event_type,
    subject_for,
)


def test_subject_for_prefixes_the_suffix() -> None:
    assert subject_for("asset.ingested") == "rushes.v1.asset.ingested"


@pytest.mark.parametrize(
    "bad", ["", "asset..ingested", "asset.*", "asset.>", "Asset.x", "rushes.v1.asset.x", "a b"]
)
def test_subject_for_refuses_bad_suffixes(bad: str) -> None:
    with pytest.raises(ValueError, match="suffix"):
        subject_for(bad)


def test_dlq_subject() -> None:
    assert dlq_subject("tagging") == "rushes.v1.dlq.tagging"
    with pytest.raises(ValueError, match=r"stage 'bad\.stage'"):
        dlq_subject("bad.stage")


def test_message_id_is_deterministic_and_distinguishes_each_part() -> None:
    first = message_id("a1b2", "ingest", "v1")
    assert first == message_id("a1b2", "ingest", "v1")
    assert first.startswith("ingest:a1b2:")
    others = {
        message_id("a1b2", "ingest", "v2"),
        message_id("a1b3", "ingest", "v1"),
        message_id("a1b2", "tagging", "v1"),
        first,
    }
    assert len(others) == 4


@pytest.mark.parametrize(
    ("asset_id", "stage", "version", "match"),
    [
        ("", "ingest", "v1", "asset_id"),
        ("a", "ingest", "has space", "input_version"),
        ("a", "In gest", "v", "stage"),
    ],
)
def test_message_id_refuses_bad_parts(asset_id: str, stage: str, version: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        message_id(asset_id, stage, version)


def test_registry_maps_every_event_of_events_proto() -> None:
    assert EVENT_TYPES["rushes.v1.asset.ingested"] is events_pb2.AssetIngested
    assert EVENT_TYPES["rushes.v1.asset.rejected"] is events_pb2.AssetRejected
    assert EVENT_TYPES["rushes.v1.asset.stage_started"] is events_pb2.StageStarted
    assert EVENT_TYPES["rushes.v1.asset.stage_failed"] is events_pb2.StageFailed
    assert event_class_for("rushes.v1.dlq.ingest") is events_pb2.DeadLetter
    assert event_class_for("rushes.v1.dlq.") is None
    # Every message of events.proto that carries an envelope is reachable from the table.
    with_envelope = {
        m.name for m in events_pb2.DESCRIPTOR.message_types_by_name.values() if "envelope" in m.fields_by_name
    }
    assert {cls.DESCRIPTOR.name for cls in EVENT_TYPES.values()} == with_envelope


def test_decode_round_trip() -> None:
    event = events_pb2.AssetRejected(
        envelope=new_envelope("asset.rejected", asset_id="abc", producer="ingest", producer_version="1.0"),
        reason_code="not_media",
    )
    decoded = decode_event("rushes.v1.asset.rejected", event.SerializeToString())
    assert decoded == event


def test_decode_unknown_subject_is_poison_naming_the_subject() -> None:
    with pytest.raises(PoisonMessage, match=r"rushes\.v1\.asset\.curated.*EVENT_TYPES"):
        decode_event("rushes.v1.asset.curated", b"")


def test_decode_garbled_payload_is_poison() -> None:
    with pytest.raises(PoisonMessage, match="not a valid AssetIngested"):
        decode_event("rushes.v1.asset.ingested", b"\xff\xff\xff\xff")


def test_decode_event_without_envelope_is_poison() -> None:
    with pytest.raises(PoisonMessage, match="no envelope"):
        decode_event("rushes.v1.asset.ingested", events_pb2.AssetIngested(bucket="b").SerializeToString())


def test_register_event_type_extends_the_table() -> None:
    subject = "rushes.v1.unit.registered"
    try:
        register_event_type(subject, events_pb2.StageStarted)
        register_event_type(subject, events_pb2.StageStarted)  # same pair again: fine
        assert event_class_for(subject) is events_pb2.StageStarted
        with pytest.raises(ValueError, match="already registered for StageStarted"):
            register_event_type(subject, events_pb2.StageFailed)
    finally:
        EVENT_TYPES.pop(subject, None)
    with pytest.raises(ValueError, match="no 'envelope' field"):
        register_event_type("rushes.v1.unit.bad", events_pb2.Envelope)
    with pytest.raises(ValueError, match="must start with"):
        register_event_type("other.subject", events_pb2.StageStarted)


def test_new_envelope_fills_every_field() -> None:
    before = datetime.now(UTC)
    envelope = new_envelope(
        "asset.ingested", asset_id="abc", producer="ingest", producer_version="1.2", project="p"
    )
    assert envelope.type == "rushes.v1.asset.ingested"
    assert len(envelope.id) == 36 and envelope.id.count("-") == 4
    assert len(envelope.trace_id) == 32
    assert (envelope.asset_id, envelope.producer, envelope.producer_version, envelope.project) == (
        "abc",
        "ingest",
        "1.2",
        "p",
    )
    stamped = envelope.time.ToDatetime(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= stamped <= datetime.now(UTC) + timedelta(seconds=1)
    again = new_envelope(
        "rushes.v1.asset.ingested", asset_id="abc", producer="i", producer_version="1", trace_id="t-1"
    )
    assert again.trace_id == "t-1" and again.id != envelope.id


def test_new_envelope_refuses_unregistered_types_and_missing_producer() -> None:
    with pytest.raises(ValueError, match="not registered"):
        new_envelope("asset.unknown", asset_id="a", producer="p", producer_version="1")
    with pytest.raises(ValueError, match="producer"):
        new_envelope("asset.ingested", asset_id="a", producer="", producer_version="1")


def test_nak_delay_follows_the_backoff_list_and_repeats_the_last() -> None:
    backoff = [1.0, 5.0, 15.0]
    assert [nak_delay_s(backoff, n) for n in (1, 2, 3, 4, 9)] == [1.0, 5.0, 15.0, 15.0, 15.0]


def test_consumer_config_keeps_the_lease_and_respects_max_deliver() -> None:
    settings = NatsSettings(ack_wait_s=60, max_deliver=3, backoff_s=[1, 5, 15, 30])
    config = consumer_config(
        settings, durable="tagging", filter_subjects=["rushes.v1.asset.ingested"], max_ack_pending=8
    )
    # Server-side BackOff replaces AckWait: every entry must still be a full lease.
    assert config.backoff == [61, 65]
    assert config.max_deliver == 3 and len(config.backoff) < config.max_deliver
    assert config.ack_wait == 60 and config.max_ack_pending == 8
    assert config.filter_subjects == ["rushes.v1.asset.ingested"]
    single = consumer_config(
        NatsSettings(max_deliver=1), durable="d", filter_subjects=["rushes.v1.>"], max_ack_pending=1
    )
    assert single.backoff is None
