"""Opaque page tokens for keyset pagination over (created_at, asset_id), newest first.

The token carries the last row's sort key and the filter it was issued for: a keyset cursor is only
meaningful with the same filter, so reusing it with another one is refused instead of silently
returning a strange page. Clients must treat the token as opaque; it is not signed because it grants
nothing (every asset is readable anyway).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
_TOKEN_VERSION = 1
_MAX_TOKEN_CHARS = 2048


class InvalidPageToken(ValueError):
    """The page token is malformed or was issued for a different filter."""


@dataclass(frozen=True)
class Cursor:
    """The sort key of the last asset on the previous page."""

    created_at: datetime
    asset_id: str


def clamp_page_size(requested: int) -> int:
    """0 means "the default"; anything above the maximum is served as the maximum."""
    if requested <= 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def encode_page_token(cursor: Cursor, *, project: str, status: str) -> str:
    payload = {
        "v": _TOKEN_VERSION,
        "t": cursor.created_at.isoformat(),
        "a": cursor.asset_id,
        "f": [project, status],
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str, *, project: str, status: str) -> Cursor:
    """The cursor inside a token from `encode_page_token`; InvalidPageToken otherwise."""
    if len(token) > _MAX_TOKEN_CHARS:
        raise InvalidPageToken("page_token is not valid: too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if payload["v"] != _TOKEN_VERSION:
            raise InvalidPageToken("page_token is not valid: issued by an incompatible version")
        cursor = Cursor(created_at=datetime.fromisoformat(payload["t"]), asset_id=str(payload["a"]))
        issued_for = payload["f"]
    except InvalidPageToken:
        raise
    except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise InvalidPageToken("page_token is not valid: pass back next_page_token unchanged") from exc
    if cursor.created_at.tzinfo is None:
        raise InvalidPageToken("page_token is not valid: pass back next_page_token unchanged")
    if issued_for != [project, status]:
        raise InvalidPageToken(
            "page_token was issued for a different filter (project/status); "
            "start again without a token when changing the filter"
        )
    return cursor
