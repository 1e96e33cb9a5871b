"""`python -m rushes_events.stream_setup`: create the Rushes stream or bring it up to date, as an operator.

Services only create the stream when it is missing and otherwise leave it alone (their NATS users
may not edit it: a compromised stage must not be able to shrink the stream's limits). Whoever
holds the operator's NATS user applies changed settings: `rushes up` locally, this module in the
chart's post-install/post-upgrade job. Reads the same RUSHES_NATS__* settings as the services.
Exit status: 0 when the stream matches the settings, 1 when it could not (the last line on
stderr says why; warnings on the way, such as refused connection attempts, are logged before it).
"""

from __future__ import annotations

import asyncio
import logging
import sys

import nats.errors
from rushes_config import ConfigError, NatsSettings, load_settings

from rushes_events.bus import EventBus
from rushes_events.errors import EventBusUnavailable


async def apply_stream_settings(settings: NatsSettings, *, wait_s: float | None = None) -> None:
    """Connect (within `wait_s`, default the settings' connect timeout) and create or update the stream."""
    bus = await EventBus.connect(settings, name="stream-setup", wait_s=wait_s)
    try:
        await bus.ensure_stream(update=True)
    finally:
        await bus.close()


def main(*, wait_s: float | None = None) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s stream-setup %(name)s: %(message)s"
    )
    try:
        settings = load_settings(service_name="stream-setup")
        asyncio.run(apply_stream_settings(settings.nats, wait_s=wait_s))
    except (ConfigError, EventBusUnavailable, RuntimeError, TimeoutError, nats.errors.Error) as exc:
        sys.stderr.write(f"stream-setup: {exc}\n")
        return 1
    print(f"stream-setup: stream {settings.nats.stream} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
