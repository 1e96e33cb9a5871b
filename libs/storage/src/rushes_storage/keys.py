"""Object keys: every asset's objects live under assets/<asset_id>/..., a project's settings and
results under projects/<slug>-<digest>/...; built and validated here."""

from __future__ import annotations

import hashlib
import re
from typing import Final

ASSET_PREFIX: Final = "assets"
PROJECT_PREFIX: Final = "projects"
MAX_PROJECT_CHARS: Final = 200
_UNSAFE_IN_SLUG: Final = re.compile(r"[^A-Za-z0-9._-]+")
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


def check_project(project: str) -> str:
    """A project name as given to `rushes ingest --project`: required, printable, bounded."""
    if not isinstance(project, str) or not project.strip():
        raise ValueError("project is required (the name given to `rushes ingest --project`)")
    if len(project) > MAX_PROJECT_CHARS:
        raise ValueError(f"project name is longer than {MAX_PROJECT_CHARS} characters")
    if not project.isprintable():
        raise ValueError("project name contains non-printable characters")
    return project


def project_key(project: str, *parts: str) -> str:
    """ "projects/<slug>-<digest>/<parts...>" (the prefix itself with no parts). Any project name
    maps to one safe folder: a readable slug for people browsing the bucket plus 12 hex digits of
    the name's SHA-256, so "Film: One" and "Film/One" never share settings."""
    check_project(project)
    slug = _UNSAFE_IN_SLUG.sub("-", project).strip("-.")[:60] or "project"
    folder = f"{PROJECT_PREFIX}/{slug}-{hashlib.sha256(project.encode()).hexdigest()[:12]}"
    if not parts:
        return folder + "/"
    return check_key("/".join([folder, *(validate_key_part(p) for p in parts)]))
