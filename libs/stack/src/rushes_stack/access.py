"""Who may do what in the local stack: NATS subjects and S3 actions per service, gRPC tokens per role.

The one table to extend when a service starts publishing a new event: SERVICE_EVENTS. A service
missing from it can still connect, consume and report progress (stage_started/stage_failed, its
own DLQ subject) but cannot publish any completion event: it fails closed, and
test_access_table_covers_every_service says so before anyone runs the stack.

What is and is not least privilege:

* NATS publish: exact. A service may publish only its own events, the shared progress events and
  its own DLQ subject. Of the JetStream API it may look up and create the stream (not delete, purge
  or edit its messages) and, on its own durable consumer only, create/update, look up, fetch and
  ack (SERVICE_DURABLES): it cannot create a second consumer, read another durable's queue, ack or
  delete another stage's messages, or read a stream message directly. NATS subscribe: `_INBOX.>`
  only, since every consumer is a pull consumer whose deliveries arrive on an inbox. Not least
  privilege: a consumer's filter is in the request body, not the subject, so a service could
  re-point its own durable at any subject and read those events (metadata, never media); and
  stream update is allowed (every service brings the stream's Rushes-owned fields up to date at
  start), so a service could change the stream's limits.
* S3 (SeaweedFS identities): each service that touches objects gets its own key with Read, Write,
  List and Tagging on the one bucket, and no Admin (cannot create or delete buckets or manage
  identities). Not least privilege: SeaweedFS actions can be scoped to a bucket (and prefix), but
  every service writes under `assets/<asset_id>/...`, so one stage can overwrite another's
  objects. The library has no S3 key at all (it never reads objects).
* The admin identities (NATS user, S3 key, admin token) are what the CLI and operators use.
* gRPC: one token per role for people (viewer, editor, reviewer, admin) and one per service,
  with the role SERVICE_ROLE (services call no other service today; the token is there so a
  future call is authenticated and named). The servers hold only SHA-256 digests.
"""

from __future__ import annotations

from typing import Any, Final

STREAM_NAME: Final = "RUSHES"
SUBJECT_PREFIX: Final = "rushes.v1."

# service -> the events (subject suffixes) it alone publishes.
SERVICE_EVENTS: Final[dict[str, tuple[str, ...]]] = {
    "ingest": ("asset.ingested", "asset.rejected"),
    "library": ("asset.reviewed",),
    "tagging": ("asset.tagged",),
    "asr": ("asset.transcribed",),
    "picks": ("asset.picked", "project.cut_assembled"),
    "enhance": ("asset.enhanced",),
    "grading": ("asset.graded",),
    "qc": ("asset.qc",),
}

# service -> the name of its durable JetStream consumer (None: it consumes nothing).
SERVICE_DURABLES: Final[dict[str, str | None]] = {
    "ingest": None,
    "library": "library",
    "tagging": "tagging",
    "asr": "asr",
    "picks": "picks",
    "enhance": "enhance",
    "grading": "grading",
    "qc": "qc",
}

# Progress events every stage publishes about the asset it works on (rushes_events.stage_events).
SHARED_EVENTS: Final = ("asset.stage_started", "asset.stage_failed")

# Services that never read or write objects: no S3 key.
WITHOUT_OBJECT_STORE: Final = frozenset({"library"})

SERVICE_ROLE: Final = "editor"
PEOPLE_ROLES: Final = ("viewer", "editor", "reviewer", "admin")


def nats_permissions(service: str, *, stream: str = STREAM_NAME) -> dict[str, Any]:
    """The `permissions` block of `service`'s NATS user."""
    own = [SUBJECT_PREFIX + suffix for suffix in (*SHARED_EVENTS, *SERVICE_EVENTS.get(service, ()))]
    api = "$JS.API"
    allow = [
        *own,
        f"{SUBJECT_PREFIX}dlq.{service}",
        f"{api}.STREAM.INFO.{stream}",
        f"{api}.STREAM.CREATE.{stream}",
        f"{api}.STREAM.UPDATE.{stream}",
    ]
    if durable := SERVICE_DURABLES.get(service):
        consumer = f"{stream}.{durable}"
        allow += [
            f"{api}.CONSUMER.DURABLE.CREATE.{consumer}",  # how nats-py creates a durable by name
            f"{api}.CONSUMER.CREATE.{consumer}",
            f"{api}.CONSUMER.CREATE.{consumer}.>",
            f"{api}.CONSUMER.INFO.{consumer}",
            f"{api}.CONSUMER.MSG.NEXT.{consumer}",
            f"$JS.ACK.{consumer}.>",
        ]
    return {"publish": {"allow": allow}, "subscribe": {"allow": ["_INBOX.>"]}}


def s3_actions(bucket: str) -> list[str]:
    """SeaweedFS actions of a service key: data on the one bucket, no Admin."""
    return [f"{action}:{bucket}" for action in ("Read", "Write", "List", "Tagging")]


def needs_object_store(service: str) -> bool:
    return service not in WITHOUT_OBJECT_STORE
