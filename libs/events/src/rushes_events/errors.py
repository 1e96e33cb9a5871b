"""Exceptions a handler raises to tell the consumer loop what to do with a message."""

from __future__ import annotations


class TransientError(Exception):
    """Worth retrying later (a dependency is down, a timeout): nak with backoff, redeliver."""


class PoisonMessage(Exception):
    """Will never succeed (garbled payload, unknown type, invalid content): terminate and dead-letter."""


class EventBusUnavailable(TransientError):
    """NATS cannot be reached or did not confirm in time; retrying later may succeed."""
