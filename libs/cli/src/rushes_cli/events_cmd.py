"""`rushes events tail [--json] [--all]`: follow the event stream."""

from __future__ import annotations

import asyncio
import json
import sys

from nats.js.api import DeliverPolicy
from rushes_config import RushesSettings
from rushes_events import EventBus, PoisonMessage, decode_event

from rushes_cli.records import to_json_dict


def _line(subject: str, data: bytes, as_json: bool) -> str:
    try:
        event = decode_event(subject, data)
    except PoisonMessage as exc:
        return (
            json.dumps({"subject": subject, "error": str(exc)})
            if as_json
            else f"{subject}  <undecodable: {exc}>"
        )
    body = to_json_dict(event)
    if as_json:
        return json.dumps({"subject": subject, "event": body}, sort_keys=True)
    env = body.get("envelope", {})
    extra = body.get("reason") or body.get("error") or body.get("stage") or ""
    return f"{env.get('time', '')}  {subject:<32} {env.get('asset_id', '')[:12]}  {env.get('producer', '')}  {extra}"


async def tail(settings: RushesSettings, *, as_json: bool, from_start: bool, limit: int | None) -> int:
    bus = await EventBus.connect(settings.nats, name="rushes-cli")
    seen = 0
    try:
        policy = DeliverPolicy.ALL if from_start else DeliverPolicy.NEW
        sub = await bus.js.subscribe("rushes.v1.>", ordered_consumer=True, deliver_policy=policy)
        try:
            while limit is None or seen < limit:
                try:
                    msg = await sub.next_msg(timeout=3600)
                except TimeoutError:
                    continue
                print(_line(msg.subject, msg.data, as_json), flush=True)
                seen += 1
        finally:
            await sub.unsubscribe()
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    finally:
        await bus.close()
    return 0 if seen or limit is None else 1


def print_err(message: str) -> None:
    print(f"rushes: {message}", file=sys.stderr)
