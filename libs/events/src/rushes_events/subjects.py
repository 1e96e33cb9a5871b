"""Subject names and deterministic message ids: the naming rules of the event contract."""

from __future__ import annotations

import hashlib
import re
from typing import Final

SUBJECT_PREFIX: Final = "rushes.v1."
STREAM_SUBJECTS: Final = "rushes.v1.>"
DLQ_PREFIX: Final = "rushes.v1.dlq."

# One subject token: what NATS allows minus wildcards, kept lowercase so subjects read the same
# everywhere (proto comments, filters, dashboards).
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_STAGE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ID_PART = re.compile(r"^[^\s\x00-\x1f\x7f]+$")


def check_stage(stage: str) -> str:
    """Return `stage` when it is a valid stage name (one lowercase subject token), else raise ValueError."""
    if not isinstance(stage, str) or not _STAGE.match(stage):
        raise ValueError(f"stage {stage!r} must be one lowercase token of [a-z0-9_-] (at most 63 characters)")
    return stage


def subject_for(event_type_suffix: str) -> str:
    """ "asset.ingested" -> "rushes.v1.asset.ingested"; refuses wildcards, empty tokens and full subjects."""
    if not isinstance(event_type_suffix, str) or not event_type_suffix:
        raise ValueError("event type suffix must be a non-empty string such as 'asset.ingested'")
    if event_type_suffix.startswith(SUBJECT_PREFIX):
        raise ValueError(
            f"event type suffix {event_type_suffix!r} already starts with {SUBJECT_PREFIX!r}; "
            "pass the suffix only"
        )
    bad = [token for token in event_type_suffix.split(".") if not _TOKEN.match(token)]
    if bad:
        raise ValueError(
            f"event type suffix {event_type_suffix!r} has invalid token(s) {bad}: "
            "tokens are lowercase [a-z0-9_-], no wildcards"
        )
    return SUBJECT_PREFIX + event_type_suffix


def dlq_subject(stage: str) -> str:
    """Where `stage` announces the messages it terminated: "rushes.v1.dlq.<stage>"."""
    return DLQ_PREFIX + check_stage(stage)


def is_rushes_subject(subject: str) -> bool:
    """True when `subject` (wildcards allowed) lies inside the one Rushes stream."""
    return (
        isinstance(subject, str) and subject.startswith(SUBJECT_PREFIX) and len(subject) > len(SUBJECT_PREFIX)
    )


def message_id(asset_id: str, stage: str, input_version: str) -> str:
    """The Nats-Msg-Id of the event `stage` publishes for (asset, input version).

    The same inputs always give the same id, so a stage that crashes after publishing and processes
    the message again publishes a duplicate that JetStream drops within the duplicate window. The
    readable prefix helps when reading a stream; the digest keeps ids unambiguous whatever
    characters `input_version` holds.
    """
    for name, value in (("asset_id", asset_id), ("input_version", input_version)):
        if not isinstance(value, str) or not _ID_PART.match(value):
            raise ValueError(
                f"{name} {value!r} must be a non-empty string without whitespace or control characters"
            )
    check_stage(stage)
    digest = hashlib.sha256("\x00".join((asset_id, stage, input_version)).encode()).hexdigest()[:32]
    return f"{stage}:{asset_id[:64]}:{digest}"
