"""Exceptions of rushes_storage, split by whose fault they are (which decides whether to retry).

Each also derives from the builtin a caller would naturally catch (RuntimeError, KeyError,
ValueError), so code written against either spelling keeps working.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every rushes_storage error."""


class StorageUnavailable(StorageError, RuntimeError):
    """The store cannot be reached or failed on its side: retry later (a TransientError upstream).

    Also raised for deployment faults that a retry may cure once fixed (a missing bucket, refused
    credentials): none of them is the fault of the object or the caller's request.
    """


class ObjectNotFound(StorageError, KeyError):
    """No object at that key."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else "object not found"


class ChecksumMismatch(StorageError, RuntimeError):
    """Bytes read or written do not match their recorded size or SHA-256: never use them."""


class ObjectTooLarge(StorageError, ValueError):
    """The object is larger than the caller's max_bytes; nothing was kept."""
