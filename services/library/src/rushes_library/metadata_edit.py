"""Validating an edit of the descriptive and administrative tiers, and what it changes (pure).

People type these values, so each one is checked on its own and the error names the field:
titles and descriptions have a length cap and no control characters; tags must resolve in the
taxonomy (a synonym is stored as its canonical name, so search and tagging agree); access is
one of a fixed set of levels. The diff lists only the fields that really change, so an edit that
repeats what is stored neither bumps the record version nor writes an audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rushes_library.taxonomy import Taxonomy

ACCESS_LEVELS = ("public", "project", "restricted", "private")
MAX_TEXT = {"title": 200, "description": 5000, "rights": 1000, "licence": 200}
MAX_TAGS = 100
DESCRIPTIVE_FIELDS = ("title", "description", "tags")
ADMINISTRATIVE_FIELDS = ("rights", "licence", "access")


class MetadataError(ValueError):
    """An edit that cannot be stored; the message names the field."""


@dataclass(frozen=True)
class MetadataEdit:
    """The fields an editor asked to change; None means "leave as is"."""

    title: str | None = None
    description: str | None = None
    tags: Sequence[str] | None = None
    rights: str | None = None
    licence: str | None = None
    access: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in (*DESCRIPTIVE_FIELDS, *ADMINISTRATIVE_FIELDS))


@dataclass(frozen=True)
class FieldChange:
    field: str  # "descriptive.title", "administrative.access"...
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


def validate(edit: MetadataEdit, taxonomy: Taxonomy) -> dict[str, dict[str, Any]]:
    """The new values per tier ({"descriptive": {...}, "administrative": {...}}), normalised."""
    if edit.is_empty():
        raise MetadataError(
            "nothing to change: give at least one of title, description, tags, rights, licence, access"
        )
    descriptive: dict[str, Any] = {}
    administrative: dict[str, Any] = {}
    for name in ("title", "description"):
        value = getattr(edit, name)
        if value is not None:
            descriptive[name] = _text(name, value)
    if edit.tags is not None:
        descriptive["tags"] = _tags(edit.tags, taxonomy)
    for name in ("rights", "licence"):
        value = getattr(edit, name)
        if value is not None:
            administrative[name] = _text(name, value)
    if edit.access is not None:
        access = edit.access.strip().lower()
        if access not in ACCESS_LEVELS:
            raise MetadataError(f"access {edit.access!r} is not one of {', '.join(ACCESS_LEVELS)}")
        administrative["access"] = access
    return {"descriptive": descriptive, "administrative": administrative}


def diff(
    stored: Mapping[str, Mapping[str, Any]], wanted: Mapping[str, Mapping[str, Any]]
) -> list[FieldChange]:
    """The fields whose value differs from what is stored, tier by tier, in a stable order."""
    changes: list[FieldChange] = []
    for tier in ("descriptive", "administrative"):
        before = stored.get(tier) or {}
        for name, new in (wanted.get(tier) or {}).items():
            old = before.get(name)
            if _empty(old) and _empty(new):
                continue
            if old != new:
                changes.append(FieldChange(f"{tier}.{name}", old, new))
    return changes


def apply_changes(
    stored: Mapping[str, Mapping[str, Any]], changes: Sequence[FieldChange]
) -> dict[str, dict[str, Any]]:
    """The tiers after the changes; a field set to "" (or no tags) is removed rather than kept empty."""
    tiers = {tier: dict(stored.get(tier) or {}) for tier in ("descriptive", "administrative")}
    for change in changes:
        tier, _, name = change.field.partition(".")
        if _empty(change.new):
            tiers[tier].pop(name, None)
        else:
            tiers[tier][name] = change.new
    return tiers


def _text(name: str, value: str) -> str:
    text = value.strip()
    if len(text) > MAX_TEXT[name]:
        raise MetadataError(f"{name} is too long ({len(text)} characters, at most {MAX_TEXT[name]})")
    allowed_controls = "\n\t" if name in ("description", "rights") else ""
    bad = [c for c in text if not c.isprintable() and c not in allowed_controls]
    if bad:
        raise MetadataError(f"{name} contains a control character ({bad[0]!r})")
    return text


def _tags(tags: Sequence[str], taxonomy: Taxonomy) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise MetadataError(f"tags: {len(tags)} given, at most {MAX_TAGS}")
    canonical: list[str] = []
    for raw in tags:
        name = taxonomy.resolve(raw) if raw.strip() else None
        if name is None:
            hint = taxonomy.suggest(raw.strip().lower()[:3], limit=3) if raw.strip() else []
            tail = f" (did you mean {', '.join(hint)}?)" if hint else ""
            raise MetadataError(f"tag {raw!r} is not in the taxonomy{tail}")
        if name not in canonical:
            canonical.append(name)
    return sorted(canonical)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []
