"""Who may do what in the local stack: NATS subjects and S3 actions per service, gRPC tokens per role.

The one table to extend when a service starts publishing a new event: SERVICE_EVENTS. A service
missing from it can still connect, consume and report progress (stage_started/stage_failed, its
own DLQ subject) but cannot publish any completion event: it fails closed, and
test_access_table_covers_every_service says so before anyone runs the stack.

What is and is not least privilege:

* NATS publish: exact. A service may publish only its own events, the shared progress events and
  its own DLQ subject, plus the JetStream API and acks (`$JS.API.>`, `$JS.ACK.>`); deleting or
  purging the stream or its messages is denied. NATS subscribe: `_INBOX.>` only, since every
  consumer is a JetStream pull consumer whose deliveries arrive on an inbox. Not least privilege:
  `$JS.API.>` lets a service create a consumer on any subject of the stream, i.e. read every event
  (all events are metadata, never media), and `$JS.ACK.>` lets it ack another durable's messages.
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

# Progress events every stage publishes about the asset it works on (rushes_events.stage_events).
SHARED_EVENTS: Final = ("asset.stage_started", "asset.stage_failed")

# Services that never read or write objects: no S3 key.
WITHOUT_OBJECT_STORE: Final = frozenset({"library"})

SERVICE_ROLE: Final = "editor"
PEOPLE_ROLES: Final = ("viewer", "editor", "reviewer", "admin")


def nats_permissions(service: str, *, stream: str = STREAM_NAME) -> dict[str, Any]:
    """The `permissions` block of `service`'s NATS user."""
    own = [SUBJECT_PREFIX + suffix for suffix in (*SHARED_EVENTS, *SERVICE_EVENTS.get(service, ()))]
    return {
        "publish": {
            "allow": [*own, f"{SUBJECT_PREFIX}dlq.{service}", "$JS.API.>", "$JS.ACK.>"],
            "deny": [
                f"$JS.API.STREAM.DELETE.{stream}",
                f"$JS.API.STREAM.PURGE.{stream}",
                f"$JS.API.STREAM.MSG.DELETE.{stream}",
            ],
        },
        "subscribe": {"allow": ["_INBOX.>"]},
    }


def s3_actions(bucket: str) -> list[str]:
    """SeaweedFS actions of a service key: data on the one bucket, no Admin."""
    return [f"{action}:{bucket}" for action in ("Read", "Write", "List", "Tagging")]


def needs_object_store(service: str) -> bool:
    return service not in WITHOUT_OBJECT_STORE
