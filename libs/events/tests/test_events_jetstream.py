"""The event bus and the consumer loop against a real nats-server (rushes_testing's nats_server)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from events_testkit import Lane, eventually
from nats.js.api import StreamConfig
from prometheus_client import REGISTRY
from rushes.events.v1 import events_pb2
from rushes_config import NatsSettings
from rushes_events import (
    AssetFailed,
    Consumer,
    Delivery,
    EventBus,
    EventBusUnavailable,
    PoisonMessage,
    TransientError,
    dlq_subject,
    message_id,
    new_envelope,
)
from rushes_stack.components.nats import NatsServer

pytestmark = pytest.mark.integration


def ingested(lane: Lane, asset_id: str = "asset-1") -> events_pb2.AssetIngested:
    envelope = new_envelope(lane.subject, asset_id=asset_id, producer="test", producer_version="0.0.1")
    return events_pb2.AssetIngested(envelope=envelope, bucket="b")


def sample(name: str, stage: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"stage": stage, **labels}) or 0.0


def make_consumer(bus: EventBus, lane: Lane, settings: NatsSettings, handler, **kwargs) -> Consumer:
    kwargs.setdefault("fetch_timeout_s", 0.5)
    kwargs.setdefault("pending_interval_s", 0.2)
    return Consumer(
        bus,
        stage=lane.stage,
        durable=lane.durable,
        filter_subjects=[lane.subject],
        handler=handler,
        settings=settings,
        **kwargs,
    )


@contextlib.asynccontextmanager
async def running(consumer: Consumer) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def dead_letters(bus: EventBus, stage: str) -> list[events_pb2.DeadLetter]:
    info = await bus.js.stream_info(bus.settings.stream, subjects_filter=dlq_subject(stage))
    if not (info.state.subjects or {}).get(dlq_subject(stage)):
        return []
    raw = await bus.js.get_last_msg(bus.settings.stream, dlq_subject(stage))
    return [events_pb2.DeadLetter.FromString(raw.data or b"")]


async def ack_state(bus: EventBus, lane: Lane) -> tuple[int, int]:
    info = await bus.js.consumer_info(bus.settings.stream, lane.durable)
    return info.num_pending or 0, info.num_ack_pending or 0


async def test_stream_bootstrap_rerun_is_a_no_op_and_repairs_drift(bus: EventBus, lane: Lane) -> None:
    stream = bus.settings.stream
    before = await bus.js.stream_info(stream)
    await bus.ensure_stream()
    after = await bus.js.stream_info(stream)
    assert after.config == before.config
    assert after.created == before.created
    assert after.config.subjects == ["rushes.v1.>"]
    assert after.config.storage == "file"
    assert after.config.duplicate_window == bus.settings.duplicate_window_s

    # Someone shrank the duplicate window: re-running restores it and keeps every message.
    await bus.publish(ingested(lane), msg_id=f"drift-{lane.stage}")
    await bus.js.update_stream(
        StreamConfig.from_response(before.config.as_dict()).evolve(duplicate_window=5.0)
    )
    stored = (await bus.js.stream_info(stream)).state.messages
    await bus.ensure_stream()
    repaired = await bus.js.stream_info(stream)
    assert repaired.config.duplicate_window == bus.settings.duplicate_window_s
    assert repaired.state.messages == stored


async def test_duplicate_msg_id_is_reported_and_stored_once(bus: EventBus, lane: Lane) -> None:
    msg_id = message_id("asset-dup", lane.stage, "v1")
    assert await bus.publish(ingested(lane, "asset-dup"), msg_id=msg_id) is False
    assert await bus.publish(ingested(lane, "asset-dup"), msg_id=msg_id) is True
    info = await bus.js.stream_info(bus.settings.stream, subjects_filter=lane.subject)
    assert info.state.subjects == {lane.subject: 1}
    raw = await bus.js.get_last_msg(bus.settings.stream, lane.subject)
    assert raw.headers is not None
    assert raw.headers["Nats-Msg-Id"] == msg_id
    assert raw.headers["Rushes-Event-Type"] == lane.subject
    assert raw.headers["Rushes-Trace-Id"] and raw.headers["Rushes-Asset-Id"] == "asset-dup"


async def test_publish_refuses_events_that_cannot_be_delivered(bus: EventBus, lane: Lane) -> None:
    event = ingested(lane)
    with pytest.raises(ValueError, match="msg_id"):
        await bus.publish(event, msg_id="")
    with pytest.raises(ValueError, match="carries AssetIngested"):
        await bus.publish(events_pb2.StageFailed(envelope=event.envelope), msg_id="x")
    with pytest.raises(ValueError, match="concrete subject"):
        await bus.publish(event, msg_id="x", subject="elsewhere.subject")
    with pytest.raises(ValueError, match="unregistered"):
        await bus.publish(event, msg_id="x", subject="rushes.v1.asset.never_registered")


async def test_connect_failure_is_one_readable_error() -> None:
    settings = NatsSettings(url="nats://127.0.0.1:1", connect_timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(EventBusUnavailable, match=r"cannot connect to NATS at nats://127\.0\.0\.1:1"):
        await EventBus.connect(settings, name="nowhere")
    assert time.monotonic() - started < 5


async def test_wrong_password_is_reported(nats_settings: NatsSettings) -> None:
    from pydantic import SecretStr

    wrong = nats_settings.model_copy(update={"password": SecretStr("wrong"), "connect_timeout_s": 1.0})
    with pytest.raises(EventBusUnavailable, match=r"(?i)authorization"):
        await EventBus.connect(wrong, name="intruder")


async def test_consumer_bootstrap_is_idempotent_and_updates_drift(
    bus: EventBus, lane: Lane, nats_settings: NatsSettings
) -> None:
    async def handler(delivery: Delivery) -> None:
        return None

    consumer = make_consumer(bus, lane, nats_settings, handler, max_ack_pending=7)
    await consumer.ensure()
    first = await bus.js.consumer_info(nats_settings.stream, lane.durable)
    await consumer.ensure()
    second = await bus.js.consumer_info(nats_settings.stream, lane.durable)
    assert second.created == first.created and second.config == first.config
    assert first.config.max_ack_pending == 7 and first.config.max_deliver == 3
    assert first.config.filter_subjects == [lane.subject]
    assert first.config.backoff == [2.3, 2.6]  # ack_wait + each backoff step
    assert consumer.progress_interval_s == pytest.approx(2.3 / 3)

    changed = make_consumer(bus, lane, nats_settings.model_copy(update={"max_deliver": 4}), handler)
    await changed.ensure()
    third = await bus.js.consumer_info(nats_settings.stream, lane.durable)
    assert third.created == first.created
    assert (third.config.max_deliver, third.config.max_ack_pending) == (4, 128)


async def test_success_acks_and_counts(bus: EventBus, lane: Lane, nats_settings: NatsSettings) -> None:
    seen: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        seen.append(delivery)

    consumer = make_consumer(bus, lane, nats_settings, handler)
    event = ingested(lane, "asset-ok")
    await bus.publish(event, msg_id=f"ok-{lane.stage}")
    async with running(consumer):
        await eventually(lambda: sample("rushes_stage_processed_total", lane.stage, result="ok") == 1)
        assert await ack_state(bus, lane) == (0, 0)
    assert len(seen) == 1
    delivery = seen[0]
    assert delivery.subject == lane.subject and delivery.num_delivered == 1 and delivery.stream_seq > 0
    assert delivery.event == event and delivery.envelope == event.envelope
    assert sample("rushes_stage_duration_seconds_count", lane.stage) == 1
    assert sample("rushes_stage_in_flight", lane.stage) == 0
    assert sample("rushes_consumer_redeliveries_total", lane.stage) == 0


async def test_transient_error_is_redelivered_after_backoff(
    bus: EventBus, lane: Lane, nats_settings: NatsSettings
) -> None:
    calls: list[tuple[int, float]] = []

    async def handler(delivery: Delivery) -> None:
        calls.append((delivery.num_delivered, time.monotonic()))
        if delivery.num_delivered == 1:
            raise TransientError("object store is down")

    consumer = make_consumer(bus, lane, nats_settings, handler)
    await bus.publish(ingested(lane), msg_id=f"transient-{lane.stage}")
    async with running(consumer):
        await eventually(lambda: sample("rushes_stage_processed_total", lane.stage, result="ok") == 1)
    assert [n for n, _ in calls] == [1, 2]
    assert calls[1][1] - calls[0][1] >= nats_settings.backoff_s[0] - 0.05
    assert sample("rushes_stage_processed_total", lane.stage, result="retried") == 1
    assert sample("rushes_consumer_redeliveries_total", lane.stage) == 1
    assert await dead_letters(bus, lane.stage) == []


async def test_poison_goes_to_the_dlq_once(bus: EventBus, lane: Lane, nats_settings: NatsSettings) -> None:
    calls = 0

    async def handler(delivery: Delivery) -> None:
        nonlocal calls
        calls += 1
        raise PoisonMessage("frame 12 is garbage")

    consumer = make_consumer(bus, lane, nats_settings, handler)
    event = ingested(lane, "asset-poison")
    await bus.publish(event, msg_id=f"poison-{lane.stage}")
    async with running(consumer):
        await eventually(lambda: sample("rushes_dlq_messages_total", lane.stage) == 1)
        await asyncio.sleep(nats_settings.backoff_s[-1] + 0.3)  # long enough for a redelivery, were there one
        assert await ack_state(bus, lane) == (0, 0)
    assert calls == 1
    [letter] = await dead_letters(bus, lane.stage)
    assert letter.stage == lane.stage and letter.original_subject == lane.subject
    assert "frame 12 is garbage" in letter.reason and letter.deliveries == 1
    assert letter.original_data == event.SerializeToString()
    assert letter.envelope.type == dlq_subject(lane.stage)
    assert letter.envelope.asset_id == "asset-poison" and letter.envelope.trace_id == event.envelope.trace_id
    assert sample("rushes_stage_processed_total", lane.stage, result="dead_lettered") == 1


async def test_asset_failure_is_acked_once_counted_rejected_and_not_dead_lettered(
    bus: EventBus, lane: Lane, nats_settings: NatsSettings
) -> None:
    calls = 0

    async def handler(delivery: Delivery) -> None:
        nonlocal calls
        calls += 1
        raise AssetFailed("decode error at 00:01:02")

    consumer = make_consumer(bus, lane, nats_settings, handler)
    await bus.publish(ingested(lane, "asset-broken"), msg_id=f"asset-failed-{lane.stage}")
    async with running(consumer):
        await eventually(lambda: sample("rushes_stage_processed_total", lane.stage, result="rejected") == 1)
        await asyncio.sleep(nats_settings.backoff_s[-1] + 0.3)  # long enough for a redelivery, were there one
        assert await ack_state(bus, lane) == (0, 0)
    assert calls == 1
    assert await dead_letters(bus, lane.stage) == []
    assert not sample("rushes_stage_processed_total", lane.stage, result="ok")


async def test_undecodable_payload_is_dead_lettered_without_calling_the_handler(
    bus: EventBus, lane: Lane, nats_settings: NatsSettings
) -> None:
    calls = 0

    async def handler(delivery: Delivery) -> None:
        nonlocal calls
        calls += 1

    consumer = make_consumer(bus, lane, nats_settings, handler)
    await bus.js.publish(lane.subject, b"\xff\xfe not protobuf", stream=nats_settings.stream)
    async with running(consumer):
        await eventually(lambda: sample("rushes_dlq_messages_total", lane.stage) == 1)
    assert calls == 0
    [letter] = await dead_letters(bus, lane.stage)
    assert "not a valid AssetIngested" in letter.reason
    assert letter.original_data == b"\xff\xfe not protobuf"


async def test_handler_that_always_fails_stops_at_max_deliver(
    bus: EventBus, lane: Lane, nats_settings: NatsSettings
) -> None:
    calls: list[int] = []

    async def handler(delivery: Delivery) -> None:
        calls.append(delivery.num_delivered)
        raise RuntimeError("bug in the handler")

    consumer = make_consumer(bus, lane, nats_settings, handler)
    await bus.publish(ingested(lane), msg_id=f"crash-{lane.stage}")
    async with running(consumer):
        await eventually(lambda: sample("rushes_dlq_messages_total", lane.stage) == 1)
        await asyncio.sleep(nats_settings.backoff_s[-1] + 0.3)
    assert calls == [1, 2, 3]
    [letter] = await dead_letters(bus, lane.stage)
    assert letter.deliveries == 3
    assert "gave up after 3 deliveries" in letter.reason and "bug in the handler" in letter.reason
    assert sample("rushes_stage_processed_total", lane.stage, result="failed") == 2
    assert sample("rushes_stage_processed_total", lane.stage, result="dead_lettered") == 1
    assert sample("rushes_consumer_redeliveries_total", lane.stage) == 2


async def test_long_handler_keeps_its_lease_with_in_progress_acks(
    bus: EventBus, lane: Lane, nats_settings: NatsSettings
) -> None:
    # Lease 1.1 s (ack_wait 1 s + first backoff step 0.1 s); the job takes three times as long.
    # A second replica keeps fetching meanwhile: an expired lease would hand it the message.
    settings = nats_settings.model_copy(update={"ack_wait_s": 1.0, "backoff_s": [0.1]})
    calls = 0

    async def handler(delivery: Delivery) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(3.3)

    replicas = [make_consumer(bus, lane, settings, handler) for _ in range(2)]
    await replicas[0].ensure()
    await bus.publish(ingested(lane), msg_id=f"long-{lane.stage}")
    async with running(replicas[0]), running(replicas[1]):
        await eventually(lambda: sample("rushes_stage_processed_total", lane.stage, result="ok") == 1)
        await asyncio.sleep(0.3)
        assert await ack_state(bus, lane) == (0, 0)
    assert calls == 1
    assert sample("rushes_consumer_redeliveries_total", lane.stage) == 0


async def test_graceful_stop_finishes_and_acks_the_message_in_hand(
    bus: EventBus, lane: Lane, nats_settings: NatsSettings
) -> None:
    started = asyncio.Event()
    finished: list[int] = []

    async def handler(delivery: Delivery) -> None:
        started.set()
        await asyncio.sleep(0.8)
        finished.append(delivery.stream_seq)

    consumer = make_consumer(bus, lane, nats_settings, handler)
    await bus.publish(ingested(lane), msg_id=f"stop-{lane.stage}")
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert len(finished) == 1
    assert await ack_state(bus, lane) == (0, 0)
    assert sample("rushes_stage_processed_total", lane.stage, result="ok") == 1


async def test_stop_grace_expiry_hands_the_message_back(
    bus: EventBus, lane: Lane, nats_settings: NatsSettings
) -> None:
    deliveries: list[int] = []
    started = asyncio.Event()

    async def slow(delivery: Delivery) -> None:
        deliveries.append(delivery.num_delivered)
        started.set()
        await asyncio.sleep(30)

    consumer = make_consumer(bus, lane, nats_settings, slow, stop_grace_s=0.2)
    await bus.publish(ingested(lane), msg_id=f"grace-{lane.stage}")
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.wait_for(started.wait(), 10)
    began = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, 15)
    # Far below the handler's 30 s: the 0.2 s grace cut it short (slack for a loaded machine).
    assert time.monotonic() - began < 10

    async def quick(delivery: Delivery) -> None:
        deliveries.append(delivery.num_delivered)

    # The nak has no delay: the next replica gets it at once, well before any lease would expire.
    async with running(make_consumer(bus, lane, nats_settings, quick)):
        await eventually(lambda: len(deliveries) == 2, timeout_s=1.5)
    assert deliveries == [1, 2]


async def test_pending_gauge_reports_the_backlog(
    bus: EventBus, lane: Lane, nats_settings: NatsSettings
) -> None:
    gate = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        await gate.wait()

    for n in range(3):
        await bus.publish(ingested(lane, f"asset-{n}"), msg_id=f"pending-{lane.stage}-{n}")
    consumer = make_consumer(bus, lane, nats_settings, handler)
    async with running(consumer):
        # One message is in the handler; the other two wait in the stream.
        await eventually(lambda: sample("rushes_consumer_pending_messages", lane.stage) == 2)
        assert sample("rushes_stage_in_flight", lane.stage) == 1
        gate.set()
        await eventually(lambda: sample("rushes_consumer_pending_messages", lane.stage) == 0)
        await eventually(lambda: sample("rushes_stage_processed_total", lane.stage, result="ok") == 3)


async def test_batch_stop_midway_hands_the_rest_back(
    bus: EventBus, lane: Lane, nats_settings: NatsSettings
) -> None:
    handled: list[tuple[str, int]] = []
    stop = asyncio.Event()

    async def first_replica(delivery: Delivery) -> None:
        handled.append((delivery.envelope.asset_id, delivery.num_delivered))
        stop.set()  # a SIGTERM arrives while the first of three fetched messages is being handled

    for n in range(3):
        await bus.publish(ingested(lane, f"batch-{n}"), msg_id=f"batch-{lane.stage}-{n}")
    consumer = make_consumer(bus, lane, nats_settings, first_replica, batch=3)
    await asyncio.wait_for(consumer.run(stop), 10)
    assert handled == [("batch-0", 1)]

    async def second_replica(delivery: Delivery) -> None:
        handled.append((delivery.envelope.asset_id, delivery.num_delivered))

    # The two unhandled ones were naked without delay: no lease has to expire before they return.
    async with running(make_consumer(bus, lane, nats_settings, second_replica, batch=3)):
        await eventually(lambda: len(handled) == 3, timeout_s=1.5)
        await eventually(lambda: sample("rushes_stage_processed_total", lane.stage, result="ok") == 3)
    assert sorted(handled[1:]) == [("batch-1", 2), ("batch-2", 2)]
    assert await ack_state(bus, lane) == (0, 0)


def test_consumer_arguments_are_validated(nats_settings: NatsSettings) -> None:
    async def handler(delivery: Delivery) -> None:
        return None

    base = {"stage": "ok-stage", "durable": "d", "filter_subjects": ["rushes.v1.asset.ingested"]}
    cases = [
        ({"stage": "Bad Stage"}, "stage"),
        ({"durable": "a.b"}, "durable"),
        ({"filter_subjects": []}, "at least one"),
        ({"filter_subjects": ["other.>"]}, "outside"),
        ({"batch": 0}, "batch"),
        ({"heartbeat_s": 5.0}, "heartbeat_s"),
    ]
    for override, match in cases:
        with pytest.raises(ValueError, match=match):
            Consumer(None, handler=handler, settings=nats_settings, **{**base, **override})  # type: ignore[arg-type]


async def test_consumer_survives_a_nats_restart(tmp_path: Path, lane: Lane) -> None:
    # A server of our own (same launcher as the fixtures), so that it can be stopped mid-test.
    server = NatsServer.create(tmp_path)
    await asyncio.to_thread(server.start, tmp_path / "nats.log", die_with_parent=True)
    try:
        settings = server.settings(ack_wait_s=2.0, backoff_s=[0.3], max_deliver=3)
        bus = await EventBus.connect(settings, name="restart-test")
        await bus.ensure_stream()
        seen: list[str] = []

        async def handler(delivery: Delivery) -> None:
            seen.append(delivery.envelope.asset_id)

        consumer = make_consumer(bus, lane, settings, handler)
        await bus.publish(ingested(lane, "before"), msg_id="before")
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        await eventually(lambda: seen == ["before"])

        await asyncio.to_thread(server.stop)
        await eventually(lambda: not bus.is_connected)
        with pytest.raises(EventBusUnavailable):
            await bus.publish(ingested(lane, "lost"), msg_id="during", timeout_s=0.3)
        await asyncio.sleep(1.0)  # the loop keeps failing fetches meanwhile
        assert not task.done()

        await asyncio.to_thread(server.start, tmp_path / "nats.log", die_with_parent=True)
        await eventually(lambda: bus.is_connected, timeout_s=15)
        await bus.publish(ingested(lane, "after"), msg_id="after")
        await eventually(lambda: seen[-1:] == ["after"], timeout_s=15)
        stop.set()
        await asyncio.wait_for(task, 5)
        await bus.close()
    finally:
        await asyncio.to_thread(server.stop)


async def test_a_stage_start_is_announced_once_per_trigger_whatever_the_attempt(bus: EventBus) -> None:
    """A redelivery after the result was announced republishes that result, which JetStream drops as
    a duplicate; its start must be dropped too, or subscribers would see the stage running again
    with no end (the catalog's status would stay `processing`)."""
    from rushes_events import announce_stage_started
    from rushes_events.stage_events import STAGE_STARTED

    async def stored() -> int:
        info = await bus.js.stream_info(bus.settings.stream, subjects_filter=STAGE_STARTED)
        return (info.state.subjects or {}).get(STAGE_STARTED, 0)

    first = new_envelope(
        "rushes.v1.asset.ingested", asset_id="asset-starts", producer="t", producer_version="1"
    )
    second = new_envelope(
        "rushes.v1.asset.ingested", asset_id="asset-starts", producer="t", producer_version="1"
    )
    before = await stored()
    for attempt in (1, 2):  # delivered, then redelivered
        await announce_stage_started(bus, first, stage="tagging", attempt=attempt, producer="t", version="1")
    assert await stored() == before + 1  # the redelivery's start was a duplicate
    await announce_stage_started(bus, second, stage="tagging", attempt=1, producer="t", version="1")
    assert await stored() == before + 2  # a new trigger (e.g. a retag) starts again
