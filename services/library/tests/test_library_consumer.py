"""The event handler's error mapping and dead-letter replay, against a real Postgres (no NATS)."""

from __future__ import annotations

import uuid

import pytest
from google.protobuf.message import Message
from library_test_events import dead_letter, ingested, stage_started
from rushes.events.v1 import events_pb2
from rushes_events import Delivery, PoisonMessage, TransientError
from rushes_library.catalog import AssetNotFound, Catalog
from rushes_library.consumer import CatalogEventHandler, unwrap_dead_letter
from rushes_library.database import Database
from rushes_stack.ports import free_port

pytestmark = pytest.mark.integration


def _delivery(subject: str, event: Message, num_delivered: int = 1) -> Delivery:
    envelope = events_pb2.Envelope()
    envelope.CopyFrom(event.envelope)  # type: ignore[attr-defined]
    return Delivery(subject, event, envelope, num_delivered, 1, None)  # type: ignore[arg-type]


def _letter_of(
    subject: str, event: Message, *, asset_id: str, stage: str = "library"
) -> events_pb2.DeadLetter:
    letter = dead_letter(stage, time_s=30, asset_id=asset_id)
    letter.original_subject = subject
    letter.original_data = event.SerializeToString()
    return letter


async def test_records_an_event(catalog: Catalog) -> None:
    asset_id = uuid.uuid4().hex
    await CatalogEventHandler(catalog)(_delivery("rushes.v1.asset.ingested", ingested(asset_id=asset_id)))
    assert (await catalog.get_asset(asset_id)).state.stages["ingest"].status == "complete"


async def test_contract_violation_is_poison(catalog: Catalog) -> None:
    event = stage_started("", started_s=1, asset_id=uuid.uuid4().hex)
    with pytest.raises(PoisonMessage, match="stage name is empty"):
        await CatalogEventHandler(catalog)(_delivery("rushes.v1.asset.stage_started", event))


async def test_database_outage_is_transient_after_the_patience() -> None:
    dead = Database(f"postgresql://nobody@127.0.0.1:{free_port()}/none", connect_timeout_s=1)
    handler = CatalogEventHandler(
        Catalog(dead, pipeline_stages=["ingest"]), outage_patience_s=0.3, retry_interval_s=0.1
    )
    with pytest.raises(TransientError, match="catalog database unavailable"):
        await handler(_delivery("rushes.v1.asset.ingested", ingested(asset_id=uuid.uuid4().hex)))
    await dead.close()


async def test_own_dead_letter_replays_the_original_event(catalog: Catalog) -> None:
    asset_id = uuid.uuid4().hex
    original = ingested(asset_id=asset_id)
    letter = _letter_of("rushes.v1.asset.ingested", original, asset_id=asset_id)
    await CatalogEventHandler(catalog)(_delivery("rushes.v1.dlq.library", letter))
    record = await catalog.get_asset(asset_id, include_audit=True)
    assert record.state.stages == {"ingest": record.state.stages["ingest"]}  # no "library" stage failure
    assert record.status == "processing"
    assert [e.record.event_type for e in record.audit] == [
        "rushes.v1.dlq.library",
        "rushes.v1.asset.ingested",
    ]


async def test_nested_own_dead_letters_are_unwrapped() -> None:
    asset_id = uuid.uuid4().hex
    original = ingested(asset_id=asset_id)
    inner = _letter_of("rushes.v1.asset.ingested", original, asset_id=asset_id)
    outer = _letter_of("rushes.v1.dlq.library", inner, asset_id=asset_id)
    unwrapped = unwrap_dead_letter(outer)
    assert unwrapped is not None
    assert unwrapped[0] == "rushes.v1.asset.ingested"
    assert unwrapped[1] == original


async def test_own_dead_letter_of_a_poison_event_is_acked_not_raised(catalog: Catalog) -> None:
    asset_id = uuid.uuid4().hex
    poison = stage_started("", started_s=1, asset_id=asset_id)
    garbled = _letter_of("rushes.v1.asset.ingested", ingested(asset_id=asset_id), asset_id=asset_id)
    garbled.original_data = b"\xff\xfe not a protobuf"
    handler = CatalogEventHandler(catalog)
    # neither raises: the library never dead-letters its own dead letters
    await handler(
        _delivery(
            "rushes.v1.dlq.library", _letter_of("rushes.v1.asset.stage_started", poison, asset_id=asset_id)
        )
    )
    await handler(_delivery("rushes.v1.dlq.library", garbled))
    with pytest.raises(AssetNotFound):
        await catalog.get_asset(asset_id)  # audited only; nothing applied


async def test_other_stages_dead_letters_fail_that_stage(catalog: Catalog) -> None:
    asset_id = uuid.uuid4().hex
    letter = _letter_of(
        "rushes.v1.asset.ingested", ingested(asset_id=asset_id), asset_id=asset_id, stage="tagging"
    )
    await CatalogEventHandler(catalog)(_delivery("rushes.v1.dlq.tagging", letter))
    record = await catalog.get_asset(asset_id)
    assert record.status == "failed" and record.state.stages["tagging"].status == "failed"
