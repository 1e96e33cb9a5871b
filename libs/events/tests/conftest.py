"""Fixtures for the rushes_events integration tests (real nats-server from rushes_testing)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from events_testkit import Lane
from rushes.events.v1 import events_pb2
from rushes_config import NatsSettings
from rushes_events import EVENT_TYPES, EventBus, register_event_type


@pytest.fixture
def nats_settings(nats_server: object) -> NatsSettings:
    """Short leases and delays so redelivery paths run in about a second."""
    settings: NatsSettings = nats_server.settings()  # type: ignore[attr-defined]
    return settings.model_copy(update={"ack_wait_s": 2.0, "backoff_s": [0.3, 0.6], "max_deliver": 3})


@pytest.fixture
def lane() -> Iterator[Lane]:
    token = uuid.uuid4().hex[:10]
    subject = f"rushes.v1.test.t{token}.ingested"
    register_event_type(subject, events_pb2.AssetIngested)
    yield Lane(subject=subject, stage=f"unit-{token}", durable=f"unit-{token}")
    EVENT_TYPES.pop(subject, None)


@pytest.fixture
async def bus(nats_settings: NatsSettings) -> AsyncIterator[EventBus]:
    event_bus = await EventBus.connect(nats_settings, name="events-test", version="0.0.1")
    await event_bus.ensure_stream()
    yield event_bus
    await event_bus.close()
