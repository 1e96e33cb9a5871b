"""One delivery of a stage's input event, from "started" to an outcome the consumer loop understands.

Every stage handler does the same dance around its own job: check the event is the one it
consumes, announce `stage_started`, run the job, and turn what went wrong into the consumer's
outcomes: the asset's own fault is announced as `stage_failed` and acked (AssetFailed), an object
the event names that is gone is poison (terminated, dead-lettered), and a dependency that is down
is retried (TransientError). Which exception is which is the stage's to say (a FailureMap).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf.message import Message

from rushes_events.bus import EventBus
from rushes_events.consumer import Delivery
from rushes_events.errors import AssetFailed, PoisonMessage, TransientError
from rushes_events.stage_events import announce_stage_failed, announce_stage_started

log = logging.getLogger(__name__)
EventT = TypeVar("EventT", bound=Message)
ResultT = TypeVar("ResultT")
Errors = tuple[type[BaseException], ...]


@dataclass(frozen=True)
class StageIdentity:
    stage: str
    producer: str
    version: str


@dataclass(frozen=True)
class FailureMap:
    """asset: the asset's own fault (recorded, not retried); missing: an object it names is gone
    (poison); transient: ours, a dependency down (retried with backoff)."""

    asset: Errors = ()
    missing: Errors = ()
    transient: Errors = ()


def _plain(exc: BaseException) -> str:
    return str(exc)


def _first_version(_event: Any) -> str:
    return "v1"


async def run_stage_job(
    bus: EventBus,
    delivery: Delivery,
    identity: StageIdentity,
    expects: type[EventT],
    work: Callable[[EventT], Awaitable[ResultT]],
    failures: FailureMap,
    *,
    describe: Callable[[BaseException], str] = _plain,
    input_version: Callable[[EventT], str] = _first_version,
) -> ResultT:
    """Run `work` on the delivered event; see the module docstring for the outcomes. `describe`
    words an asset failure for the catalog; `input_version` keys the stage_failed event's id (a
    retag's failure is a new event, a redelivery's the same)."""
    event = delivery.event
    if not isinstance(event, expects):
        raise PoisonMessage(
            f"{identity.stage} consumes {expects.DESCRIPTOR.name} events, got {delivery.subject}"
        )
    envelope = event.envelope  # type: ignore[attr-defined]
    asset_id = envelope.asset_id
    await announce_stage_started(
        bus, envelope, stage=identity.stage, attempt=delivery.num_delivered,
        producer=identity.producer, version=identity.version,
    )  # fmt: skip
    try:
        return await work(event)
    except failures.asset as exc:
        error = describe(exc)
        log.warning("%s failed for %s: %s", identity.stage, asset_id, error)
        await announce_stage_failed(
            bus, envelope, stage=identity.stage, error=error, producer=identity.producer,
            version=identity.version, input_version=input_version(event),
        )  # fmt: skip
        raise AssetFailed(f"asset {asset_id}: {error}") from exc
    except failures.missing as exc:
        raise PoisonMessage(f"asset {asset_id}: object {exc} is missing from the store") from None
    except failures.transient as exc:
        raise TransientError(f"asset {asset_id}: {exc}") from exc
