"""Exceptions a handler raises to tell the consumer loop what to do with a message."""

from __future__ import annotations


class TransientError(Exception):
    """Worth retrying later (a dependency is down, a timeout): nak with backoff, redeliver."""


class PoisonMessage(Exception):
    """Will never succeed (garbled payload, unknown type, invalid content): terminate and dead-letter."""


class AssetFailed(Exception):
    """The asset itself cannot be processed by this stage (a decode error mid-file, unusable audio).

    The handler has already recorded that (e.g. announced rushes.v1.asset.stage_failed); the
    message is acked — retrying cannot help and it is not poison — and counted as "rejected".
    """


class EventBusUnavailable(TransientError):
    """NATS cannot be reached or did not confirm in time; retrying later may succeed."""
