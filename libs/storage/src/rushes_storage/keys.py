"""Deterministic object keys: everything of an asset lives under assets/<asset_id>/."""

from __future__ import annotations

import re

_ASSET_ID = re.compile(r"^[0-9a-f]{8,64}$")
_PART = re.compile(r"^[A-Za-z0-9._@+=-][A-Za-z0-9._@+=/-]{0,200}$")


def asset_key(asset_id: str, *parts: str) -> str:
    """`assets/<asset_id>/<parts...>`; refuses anything that could escape the asset's prefix."""
    if not _ASSET_ID.match(asset_id):
        raise ValueError(f"invalid asset id {asset_id!r}: expected 8-64 lowercase hex characters")
    for part in parts:
        if not _PART.match(part) or ".." in part.split("/") or "//" in part or part.endswith("/"):
            raise ValueError(f"invalid object key part {part!r}")
    return "/".join(["assets", asset_id, *parts])


def check_key(key: str) -> str:
    """Any key we read or write: printable, relative, no dot segments."""
    if not key or len(key) > 1024 or not key.isprintable() or key.startswith("/"):
        raise ValueError(f"invalid object key {key!r}")
    if any(segment in {"", ".", ".."} for segment in key.split("/")):
        raise ValueError(f"invalid object key {key!r}: empty or dot segments")
    return key
