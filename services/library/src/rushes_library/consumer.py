"""The library's JetStream consumer: every rushes.v1.> event, one catalog transaction each.

Error mapping (see rushes_events.Consumer):
- database down -> wait for it a while (the consumer keeps the lease alive), then TransientError:
  the event is redelivered later and nothing is lost;
- an event that breaks its contract or cannot be stored -> PoisonMessage (dead-lettered);
- rushes.v1.dlq.library (our own dead letters) -> recorded, and the event inside is replayed when it
  can be decoded (it was usually dead-lettered because the database stayed down too long); never
  raised as poison again, so a bad event cannot circle through the DLQ forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import psycopg
from google.protobuf.message import Message
from rushes.events.v1 import events_pb2
from rushes_config import NatsSettings
from rushes_events import Consumer, Delivery, EventBus, PoisonMessage, TransientError, decode_event

from rushes_library.catalog import Catalog
from rushes_library.database import CatalogUnavailable
from rushes_library.projection import OWN_DLQ_SUBJECT, OWN_STAGE, InvalidEvent

log = logging.getLogger(__name__)

DURABLE = "library"
FILTER_SUBJECTS = ["rushes.v1.>"]
# A dead letter of a dead letter of ... : how deep to dig for the original event.
MAX_DEAD_LETTER_DEPTH = 8


class CatalogEventHandler:
    """Records one delivery in the catalog; callable as a rushes_events handler."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        outage_patience_s: float = 60.0,
        retry_interval_s: float = 2.0,
    ) -> None:
        """`outage_patience_s`: how long one delivery waits for the database before handing the
        event back (TransientError); waiting in place keeps the event's delivery count from being
        spent on an outage, and the consumer's in-progress acks keep its lease meanwhile.
        """
        self._catalog = catalog
        self._patience_s = outage_patience_s
        self._retry_interval_s = retry_interval_s

    async def __call__(self, delivery: Delivery) -> None:
        if delivery.subject == OWN_DLQ_SUBJECT:
            await self._handle_own_dead_letter(delivery.subject, delivery.event)
            return
        try:
            recorded = await self._record(delivery.subject, delivery.event)
        except InvalidEvent as exc:
            raise PoisonMessage(str(exc)) from exc
        if not recorded:
            log.info("%s %s was already recorded", delivery.subject, delivery.envelope.id)

    async def _handle_own_dead_letter(self, subject: str, event: Message) -> None:
        try:
            await self._record(subject, event)
        except InvalidEvent as exc:
            log.error("cannot record dead letter on %s (acked, not re-dead-lettered): %s", subject, exc)
            return
        original = unwrap_dead_letter(event)
        if original is None:
            return
        original_subject, original_event = original
        try:
            if await self._record(original_subject, original_event):
                log.warning("replayed %s from the library's dead letters", original_subject)
        except InvalidEvent as exc:
            log.error("dead-lettered %s stays unrecorded: %s", original_subject, exc)

    async def _record(self, subject: str, event: Message) -> bool:
        """record_event, waiting out a database outage for up to the patience; InvalidEvent passes through."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._patience_s
        while True:
            try:
                return await self._catalog.record_event(subject, event)
            except CatalogUnavailable as exc:
                if loop.time() + self._retry_interval_s > deadline:
                    raise TransientError(str(exc)) from exc
                log.warning("catalog unavailable while recording %s; retrying: %s", subject, exc)
                await asyncio.sleep(self._retry_interval_s)
            except psycopg.DataError as exc:
                # Values Postgres refuses to store (out of range, malformed): retrying cannot help.
                raise InvalidEvent(f"{subject}: the catalog cannot store this event: {exc}") from exc


def unwrap_dead_letter(event: Message) -> tuple[str, Message] | None:
    """The event the library dead-lettered, dug out of (possibly nested) dead letters; None if unreadable."""
    current: Message = event
    for _ in range(MAX_DEAD_LETTER_DEPTH):
        if not isinstance(current, events_pb2.DeadLetter) or not current.original_subject:
            return None
        try:
            inner = decode_event(current.original_subject, current.original_data)
        except PoisonMessage as exc:
            log.info("dead letter's original %s is not replayable: %s", current.original_subject, exc)
            return None
        if current.original_subject != OWN_DLQ_SUBJECT:
            return current.original_subject, inner
        current = inner
    log.error("dead letters nested deeper than %d; not replaying", MAX_DEAD_LETTER_DEPTH)
    return None


def build_consumer(
    bus: EventBus,
    settings: NatsSettings,
    handler: Callable[[Delivery], Awaitable[None]],
) -> Consumer:
    """The one durable consumer of every event, shared by all library replicas."""
    return Consumer(
        bus,
        stage=OWN_STAGE,
        durable=DURABLE,
        filter_subjects=list(FILTER_SUBJECTS),
        handler=handler,
        settings=settings,
    )
