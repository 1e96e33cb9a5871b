"""SIGTERM/SIGINT -> a stop event, the one shutdown path of every service."""

from __future__ import annotations

import asyncio
import logging
import signal

_log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_signal_handlers(stop: asyncio.Event) -> None:
    """The first SIGTERM/SIGINT sets `stop`; the handlers are then removed, so a second one kills."""
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        _log.info("received %s: stopping gracefully (send it again to exit at once)", sig.name)
        stop.set()
        remove_signal_handlers()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)


def remove_signal_handlers() -> None:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.remove_signal_handler(sig)


async def run_until_signal(stop: asyncio.Event) -> None:
    """Install the handlers and return once `stop` is set (by a signal or by anyone else)."""
    install_signal_handlers(stop)
    try:
        await stop.wait()
    finally:
        remove_signal_handlers()
