"""Object keys: every asset's objects live under assets/<asset_id>/..., built and validated here."""

from __future__ import annotations

import re
from typing import Final

ASSET_PREFIX: Final = "assets"
MAX_KEY_BYTES: Final = 1024  # S3's limit on a key
MAX_PART_CHARS: Final = 255
# Asset ids are (a prefix of) the content's SHA-256 in lowercase hex; see rushes_ingest.pipeline.
_ASSET_ID: Final = re.compile(r"^[0-9a-f]{8,64}$")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def validate_key_part(part: str) -> str:
    """Check one caller-supplied part ("proxy.mp4", "keyframes/0001.jpg") of a key; return it."""
    if not isinstance(part, str) or not part:
        raise ValueError(f"object key part must be a non-empty string, got {part!r}")
    if len(part) > MAX_PART_CHARS:
        raise ValueError(f"object key part is longer than {MAX_PART_CHARS} characters")
    if part.startswith("/"):
        raise ValueError(f"object key part {part!r} must not start with '/'")
    if _CONTROL.search(part):
        raise ValueError(f"object key part {part!r} contains a control character")
    if "\\" in part:
        raise ValueError(f"object key part {part!r} contains a backslash")
    if any(segment in {"", ".", ".."} for segment in part.split("/")):
        raise ValueError(f"object key part {part!r} has an empty, '.' or '..' segment")
    return part


def check_key(key: str) -> str:
    """Any full key read or written: the rules of a part, and S3's 1024-byte limit."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"object key must be a non-empty string, got {key!r}")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValueError(f"object key is longer than {MAX_KEY_BYTES} bytes")
    if key.startswith("/") or _CONTROL.search(key) or "\\" in key:
        raise ValueError(f"invalid object key {key!r}: leading '/', backslash or control character")
    if any(segment in {"", ".", ".."} for segment in key.split("/")):
        raise ValueError(f"invalid object key {key!r}: empty, '.' or '..' segment")
    return key


validate_key = check_key


def check_prefix(prefix: str) -> str:
    """A listing/deletion prefix: a valid key ending in '/', so "assets/ab/" never matches "assets/abc/"."""
    if not isinstance(prefix, str) or not prefix.endswith("/"):
        raise ValueError(f"prefix {prefix!r} must end with '/' (otherwise it also matches sibling keys)")
    check_key(prefix[:-1])
    return prefix


def asset_key(asset_id: str, *parts: str) -> str:
    """ "assets/<asset_id>/<parts...>"; with no parts, the asset's prefix "assets/<asset_id>/".

    Raises ValueError for an asset id that is not 8-64 lowercase hex characters, or a part that
    could escape the asset's prefix ("..", a leading "/", control characters, backslashes).
    """
    if not isinstance(asset_id, str) or not _ASSET_ID.match(asset_id):
        raise ValueError(f"invalid asset id {asset_id!r}: expected 8-64 lowercase hex characters")
    if not parts:
        return f"{ASSET_PREFIX}/{asset_id}/"
    return check_key("/".join([ASSET_PREFIX, asset_id, *(validate_key_part(p) for p in parts)]))
