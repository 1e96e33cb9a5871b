"""Storage failures, split by whose fault they are."""

from __future__ import annotations


class StorageUnavailable(RuntimeError):
    """The store cannot be reached or failed on its side; retrying later may succeed."""


class ObjectNotFound(KeyError):
    """No object at that key."""


class ChecksumMismatch(RuntimeError):
    """The bytes read back differ from what was stored (size or SHA-256)."""


class ObjectTooLarge(ValueError):
    """The object is larger than the caller allows."""
