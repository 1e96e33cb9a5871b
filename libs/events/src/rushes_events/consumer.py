"""The pull-consumer loop every stage runs: fetch, handle, then ack / nak / dead-letter.

Delivery semantics (see docs/INTERFACES.md):
- ack (double ack, confirmed by the server) only after the handler returned;
- TransientError, and any unexpected exception, -> nak with a delay from settings.backoff_s, until
  the message has been delivered max_deliver times; then it is treated as poison;
- PoisonMessage, or a payload that does not decode -> term() and a DeadLetter on rushes.v1.dlq.<stage>;
- while the handler runs, in-progress acks keep the lease, so long jobs are not redelivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import nats.errors
import nats.js.errors
from google.protobuf.message import Message
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from rushes.events.v1.events_pb2 import DeadLetter, Envelope
from rushes_config import NatsSettings
from rushes_metrics import (
    CONSUMER_PENDING,
    CONSUMER_REDELIVERED,
    DLQ_TOTAL,
    IN_FLIGHT,
    PROCESSED_TOTAL,
    STAGE_DURATION,
    init_stage_labels,
)

from rushes_events.bus import EventBus
from rushes_events.errors import AssetFailed, PoisonMessage, TransientError
from rushes_events.registry import decode_event, new_envelope
from rushes_events.subjects import check_stage, dlq_subject, is_rushes_subject

_log = logging.getLogger(__name__)

DLQ_DATA_LIMIT = 64 * 1024
_REASON_LIMIT = 2000
_ACK_CONFIRM_TIMEOUT_S = 5.0


@dataclass
class Delivery:
    """One delivered event, as a handler sees it."""

    subject: str
    event: Message
    envelope: Envelope
    num_delivered: int
    stream_seq: int
    _msg: Msg = field(repr=False, compare=False)

    async def in_progress(self) -> None:
        """Extend the lease; the consumer already does this every ack_wait/3, call it for extra safety."""
        await self._msg.in_progress()


Handler = Callable[[Delivery], Awaitable[None]]


def nak_delay_s(backoff_s: list[float], num_delivered: int) -> float:
    """Delay before redelivery after the `num_delivered`-th delivery failed (last value repeats)."""
    return backoff_s[min(max(num_delivered, 1), len(backoff_s)) - 1]


def consumer_config(
    settings: NatsSettings, *, durable: str, filter_subjects: list[str], max_ack_pending: int
) -> ConsumerConfig:
    """The durable pull consumer of one stage.

    JetStream's BackOff list replaces AckWait (the first delivery's lease becomes BackOff[0]), so
    putting settings.backoff_s there directly would shrink a 60 s lease to 1 s and let any event-loop
    stall cause a duplicate run. The server-side list is therefore ack_wait + backoff: the lease is
    never shorter than ack_wait, and a message whose worker died is redelivered with a growing delay.
    Naks carry their own delay (nak_delay_s). Entries past max_deliver - 1 could never be used, and
    the server wants max_deliver > len(backoff), so the list is cut there.
    """
    server_backoff = [settings.ack_wait_s + b for b in settings.backoff_s][: max(settings.max_deliver - 1, 0)]
    return ConsumerConfig(
        durable_name=durable,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=settings.ack_wait_s,
        max_deliver=settings.max_deliver,
        backoff=server_backoff or None,
        filter_subjects=list(filter_subjects),
        max_ack_pending=max_ack_pending,
    )


def _config_differences(current: ConsumerConfig, wanted: ConsumerConfig) -> dict[str, tuple[object, object]]:
    def seconds(value: float | None) -> float:
        return round(value or 0.0, 6)

    current_filters = sorted(
        current.filter_subjects or ([current.filter_subject] if current.filter_subject else [])
    )
    pairs: dict[str, tuple[object, object]] = {
        "ack_policy": (current.ack_policy, wanted.ack_policy),
        "max_deliver": (current.max_deliver, wanted.max_deliver),
        "backoff": ([seconds(b) for b in current.backoff or []], [seconds(b) for b in wanted.backoff or []]),
        "filter_subjects": (current_filters, sorted(wanted.filter_subjects or [])),
        "max_ack_pending": (current.max_ack_pending, wanted.max_ack_pending),
    }
    if not wanted.backoff:
        # With a BackOff list the server reports AckWait = BackOff[0]; compare it only without one.
        pairs["ack_wait"] = (seconds(current.ack_wait), seconds(wanted.ack_wait))
    return {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}


class Consumer:
    """A stage's durable pull consumer, shared by all replicas of the stage."""

    def __init__(
        self,
        bus: EventBus,
        *,
        stage: str,
        durable: str,
        filter_subjects: list[str],
        handler: Handler,
        settings: NatsSettings,
        batch: int = 1,
        heartbeat_s: float | None = None,
        fetch_timeout_s: float = 2.0,
        max_ack_pending: int = 128,
        stop_grace_s: float = 30.0,
        pending_interval_s: float = 15.0,
    ) -> None:
        """`heartbeat_s` asks the server for idle heartbeats during a fetch (detects a dead link early);
        `fetch_timeout_s` bounds one pull request, and so how long an idle consumer takes to notice a
        stop; `max_ack_pending` caps messages outstanding across all replicas (back-pressure);
        `stop_grace_s` is how long a stop waits for the running handler before naking its message.
        """
        check_stage(stage)
        if not durable or any(c in durable for c in ".*> \t"):
            raise ValueError(
                f"durable name {durable!r} must be non-empty without '.', '*', '>' or whitespace"
            )
        if not filter_subjects:
            raise ValueError("filter_subjects must name at least one subject")
        outside = [s for s in filter_subjects if not is_rushes_subject(s)]
        if outside:
            raise ValueError(f"filter subjects {outside} are outside the Rushes stream (rushes.v1.>)")
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        if fetch_timeout_s <= 0:
            raise ValueError(f"fetch_timeout_s must be > 0, got {fetch_timeout_s}")
        if heartbeat_s is not None and not 0 < heartbeat_s <= fetch_timeout_s / 2:
            raise ValueError(
                f"heartbeat_s must be in (0, fetch_timeout_s/2 = {fetch_timeout_s / 2}], got {heartbeat_s}"
            )
        if max_ack_pending < batch:
            raise ValueError(f"max_ack_pending ({max_ack_pending}) must be >= batch ({batch})")
        self.bus = bus
        self.stage = stage
        self.durable = durable
        self.filter_subjects = list(filter_subjects)
        self.handler = handler
        self.settings = settings
        self.batch = batch
        self.heartbeat_s = heartbeat_s
        self.fetch_timeout_s = fetch_timeout_s
        self.max_ack_pending = max_ack_pending
        self.stop_grace_s = stop_grace_s
        self.pending_interval_s = pending_interval_s
        # Refined from the server's view of the consumer in ensure(): the shortest lease any delivery
        # can get, so in-progress acks arrive well before it runs out.
        self._lease_s = settings.ack_wait_s
        init_stage_labels(stage)

    @property
    def progress_interval_s(self) -> float:
        return self._lease_s / 3

    async def ensure(self) -> None:
        """Create the durable consumer, or update the fields that differ; idempotent."""
        wanted = consumer_config(
            self.settings,
            durable=self.durable,
            filter_subjects=self.filter_subjects,
            max_ack_pending=self.max_ack_pending,
        )
        stream = self.settings.stream
        try:
            info = await self.bus.js.consumer_info(stream, self.durable)
        except nats.js.errors.NotFoundError:
            info = None
        if info is not None:
            changes = _config_differences(info.config, wanted)
            if not changes:
                self._lease_from(info.config)
                return
        try:
            info = await self.bus.js.add_consumer(stream, wanted)
        except nats.js.errors.BadRequestError as exc:
            # A configuration the server refuses (not an outage): retrying cannot help.
            raise RuntimeError(
                f"cannot {'update' if info else 'create'} consumer {self.durable!r} on stream {stream!r}: "
                f"{exc.description}"
            ) from exc
        if changes := ({} if info is None else _config_differences(info.config, wanted)):
            _log.warning("consumer %s still differs after update: %s", self.durable, changes)
        _log.info("consumer %s on %s ready (filters %s)", self.durable, stream, self.filter_subjects)
        self._lease_from(info.config)

    def _lease_from(self, config: ConsumerConfig) -> None:
        leases = [config.ack_wait or self.settings.ack_wait_s, *(config.backoff or [])]
        self._lease_s = max(min(leases), 0.03)

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and handle until `stop` is set; then finish (or nak) the message in hand and return.

        NATS outages are logged and waited out; the loop only ends when `stop` is set.
        """
        await self._retry_until_stopped(self.ensure, stop, "consumer bootstrap")
        if stop.is_set():
            return
        pending_task = asyncio.create_task(self._report_pending(stop), name=f"{self.stage}-pending")
        sub: JetStreamContext.PullSubscription | None = None
        failures = 0
        try:
            while not stop.is_set():
                try:
                    if sub is None:
                        sub = await self.bus.js.pull_subscribe_bind(
                            durable=self.durable, stream=self.settings.stream
                        )
                    msgs = await sub.fetch(
                        self.batch, timeout=self.fetch_timeout_s, heartbeat=self.heartbeat_s
                    )
                except nats.errors.TimeoutError:
                    failures = 0
                    continue  # nothing to do right now (also what a fetch during a reconnect looks like)
                except (nats.errors.Error, OSError) as exc:
                    failures += 1
                    delay = min(0.2 * 2 ** min(failures, 5), 5.0)
                    _log.warning(
                        "fetch for %s failed (%s); retrying in %.1fs",
                        self.durable,
                        exc or type(exc).__name__,
                        delay,
                    )
                    await self._drop_subscription(sub)
                    sub = None
                    if await _wait_or_stop(stop, delay):
                        break
                    with contextlib.suppress(Exception):
                        await self.ensure()  # the consumer may have been deleted or the server replaced
                    continue
                failures = 0
                await self._handle_batch(msgs, stop)
        finally:
            pending_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending_task
            await self._drop_subscription(sub)

    async def _handle_batch(self, msgs: list[Msg], stop: asyncio.Event) -> None:
        unsettled = list(msgs)
        heartbeat = asyncio.create_task(self._keep_leases(unsettled), name=f"{self.stage}-in-progress")
        try:
            while unsettled:
                msg = unsettled[0]
                if stop.is_set():
                    # Stopping: hand the rest of the batch back at once instead of holding it.
                    await _settle(msg.nak(), msg, "nak")
                else:
                    try:
                        await self._handle(msg, stop)
                    except Exception:
                        # A bug here must not end the loop: log it and let the message come back.
                        _log.exception("internal error handling %s; nak", msg.subject)
                        await _settle(msg.nak(delay=nak_delay_s(self.settings.backoff_s, 1)), msg, "nak")
                unsettled.pop(0)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _keep_leases(self, unsettled: list[Msg]) -> None:
        while True:
            await asyncio.sleep(self.progress_interval_s)
            for msg in list(unsettled):
                try:
                    await msg.in_progress()
                except (nats.errors.Error, OSError) as exc:
                    _log.warning("in-progress ack for %s failed: %s", msg.subject, exc or type(exc).__name__)

    async def _handle(self, msg: Msg, stop: asyncio.Event) -> None:
        meta = msg.metadata
        num_delivered = meta.num_delivered
        stream_seq = meta.sequence.stream
        if num_delivered > 1:
            CONSUMER_REDELIVERED.labels(stage=self.stage).inc()
        try:
            event = decode_event(msg.subject, msg.data)
        except PoisonMessage as exc:
            await self._dead_letter(msg, None, str(exc), num_delivered, stream_seq)
            return
        envelope = Envelope()
        envelope.CopyFrom(event.envelope)  # type: ignore[attr-defined]
        delivery = Delivery(msg.subject, event, envelope, num_delivered, stream_seq, msg)

        IN_FLIGHT.labels(stage=self.stage).inc()
        started = time.perf_counter()
        task = asyncio.create_task(self._call_handler(delivery), name=f"{self.stage}-handler-{stream_seq}")
        try:
            outcome = await self._wait_handler(task, stop)
        finally:
            STAGE_DURATION.labels(stage=self.stage).observe(time.perf_counter() - started)
            IN_FLIGHT.labels(stage=self.stage).dec()

        if outcome is None:
            if await _settle(msg.ack_sync(timeout=_ACK_CONFIRM_TIMEOUT_S), msg, "ack"):
                PROCESSED_TOTAL.labels(stage=self.stage, result="ok").inc()
            return
        if isinstance(outcome, asyncio.CancelledError):
            _log.warning(
                "stop grace of %.1fs expired; handing %s #%d back", self.stop_grace_s, msg.subject, stream_seq
            )
            await _settle(msg.nak(), msg, "nak")
            return
        if isinstance(outcome, AssetFailed):
            _log.info("%s #%d: the asset failed this stage: %s", msg.subject, stream_seq, outcome)
            if await _settle(msg.ack_sync(timeout=_ACK_CONFIRM_TIMEOUT_S), msg, "ack"):
                PROCESSED_TOTAL.labels(stage=self.stage, result="rejected").inc()
            return
        if isinstance(outcome, PoisonMessage):
            await self._dead_letter(msg, envelope, f"poison: {outcome}", num_delivered, stream_seq)
            return
        kind = "transient" if isinstance(outcome, TransientError) else type(outcome).__name__
        if num_delivered >= self.settings.max_deliver:
            reason = f"gave up after {num_delivered} deliveries; last error ({kind}): {outcome}"
            await self._dead_letter(msg, envelope, reason, num_delivered, stream_seq)
            return
        delay = nak_delay_s(self.settings.backoff_s, num_delivered)
        if isinstance(outcome, TransientError):
            _log.warning(
                "%s #%d transient failure (delivery %d), retry in %.1fs: %s",
                msg.subject,
                stream_seq,
                num_delivered,
                delay,
                outcome,
            )
            result = "retried"
        else:
            _log.error(
                "%s #%d handler crashed (delivery %d), retry in %.1fs",
                msg.subject,
                stream_seq,
                num_delivered,
                delay,
                exc_info=outcome,
            )
            result = "failed"
        if await _settle(msg.nak(delay=delay), msg, "nak"):
            PROCESSED_TOTAL.labels(stage=self.stage, result=result).inc()

    async def _call_handler(self, delivery: Delivery) -> None:
        await self.handler(delivery)

    async def _wait_handler(self, task: asyncio.Task[None], stop: asyncio.Event) -> BaseException | None:
        """Run the handler to completion; on stop, allow it stop_grace_s, then cancel it.

        Returns None on success, the exception it raised, or CancelledError when the grace expired.
        """
        stop_wait = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                _log.info(
                    "stop requested; letting %s finish (grace %.1fs)", task.get_name(), self.stop_grace_s
                )
                done, _ = await asyncio.wait({task}, timeout=self.stop_grace_s)
                if not done:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                    return asyncio.CancelledError()
        except asyncio.CancelledError:
            # Our own caller is being cancelled: do not leave the handler running behind it.
            task.cancel()
            raise
        finally:
            stop_wait.cancel()
        if task.cancelled():
            return asyncio.CancelledError()
        return task.exception()

    async def _dead_letter(
        self, msg: Msg, envelope: Envelope | None, reason: str, deliveries: int, stream_seq: int
    ) -> None:
        """Announce the message on the stage's DLQ, then terminate it; if announcing fails, retry later."""
        reason = reason[:_REASON_LIMIT]
        subject = dlq_subject(self.stage)
        letter = DeadLetter(
            envelope=new_envelope(
                subject,
                asset_id=envelope.asset_id if envelope else "",
                producer=self.bus.name,
                producer_version=self.bus.version,
                project=envelope.project if envelope else "",
                trace_id=(envelope.trace_id or None) if envelope else None,
            ),
            stage=self.stage,
            original_subject=msg.subject,
            stream_sequence=stream_seq,
            deliveries=deliveries,
            reason=reason,
            original_data=msg.data[:DLQ_DATA_LIMIT],
        )
        try:
            await self.bus.publish(letter, msg_id=f"dlq:{self.stage}:{self.settings.stream}:{stream_seq}")
        except Exception as exc:
            # Terminating without the announcement would lose the message silently: keep it instead.
            delay = nak_delay_s(self.settings.backoff_s, deliveries)
            _log.error(
                "cannot publish dead letter for %s #%d (%s); nak, retry in %.1fs",
                msg.subject,
                stream_seq,
                exc,
                delay,
            )
            await _settle(msg.nak(delay=delay), msg, "nak")
            return
        _log.warning(
            "dead-lettered %s #%d after %d deliveries: %s", msg.subject, stream_seq, deliveries, reason
        )
        DLQ_TOTAL.labels(stage=self.stage).inc()
        if await _settle(msg.term(), msg, "term"):
            PROCESSED_TOTAL.labels(stage=self.stage, result="dead_lettered").inc()

    async def _report_pending(self, stop: asyncio.Event) -> None:
        gauge = CONSUMER_PENDING.labels(stage=self.stage)
        while not stop.is_set():
            try:
                info = await self.bus.js.consumer_info(self.settings.stream, self.durable, timeout=5)
                gauge.set(info.num_pending or 0)
            except (nats.errors.Error, OSError) as exc:
                _log.debug("consumer info for %s unavailable: %s", self.durable, exc or type(exc).__name__)
            if await _wait_or_stop(stop, self.pending_interval_s):
                return

    async def _retry_until_stopped(
        self, action: Callable[[], Awaitable[None]], stop: asyncio.Event, what: str
    ) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                await action()
                return
            except (nats.errors.Error, OSError) as exc:
                attempt += 1
                delay = min(0.2 * 2 ** min(attempt, 5), 5.0)
                _log.warning(
                    "%s for %s failed (%s); retrying in %.1fs",
                    what,
                    self.durable,
                    exc or type(exc).__name__,
                    delay,
                )
                if await _wait_or_stop(stop, delay):
                    return

    async def _drop_subscription(self, sub: JetStreamContext.PullSubscription | None) -> None:
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


async def _settle(action: Awaitable[object], msg: Msg, what: str) -> bool:
    """Send an ack/nak/term; a failure is logged, not raised: the server redelivers after the lease."""
    try:
        await action
        return True
    except (nats.errors.Error, OSError) as exc:
        _log.warning(
            "%s of %s failed (%s); the server will redeliver it", what, msg.subject, exc or type(exc).__name__
        )
        return False


async def _wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds` unless `stop` is set first; True when stopping."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
        return True
    except TimeoutError:
        return False
