"""Helpers shared by the rushes_events tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


async def eventually(predicate: Callable[[], bool | Awaitable[bool]], *, timeout_s: float = 10.0) -> None:
    """Poll until `predicate` holds; fail with its name when it does not within `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(
                f"condition {getattr(predicate, '__name__', predicate)} not met in {timeout_s}s"
            )
        await asyncio.sleep(0.02)


@dataclass
class Lane:
    """A test's private slice of the shared stream: its own subject, stage and durable names."""

    subject: str
    stage: str
    durable: str
