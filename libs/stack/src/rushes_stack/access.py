"""Who may do what in the local stack: NATS subjects and S3 actions per service, gRPC tokens per role.

The one table to extend when a service starts publishing a new event: SERVICE_EVENTS. A service
missing from it can still connect, consume and report progress (stage_started/stage_failed, its
own DLQ subject) but cannot publish any completion event: it fails closed, and
test_access_table_covers_every_service says so before anyone runs the stack. Likewise
STAGE_WRITES when a service starts writing a new kind of object key: a service missing from it may
write only keys no listed service owns (test_stage_writes_covers_every_service_with_a_key).

What is and is not least privilege:

* NATS publish: exact. A service may publish only its own events, the shared progress events and
  its own DLQ subject. Of the JetStream API it may look up the stream and create it when missing
  (not update, delete or purge it, nor edit its messages: the stream's limits are the operator's,
  applied by `rushes up` or the chart's stream-setup job) and, on its own durable consumer only
  (SERVICE_DURABLES), create/update, look up, fetch and ack: it cannot create a second consumer,
  read another durable's queue, ack or delete another stage's messages, or read a stream message
  directly. NATS subscribe: `_INBOX.>` only, since every consumer is a pull consumer whose
  deliveries arrive on an inbox. Not least privilege: a consumer's filter is in the request body,
  not the subject, so a service could re-point its own durable at any subject and read those
  events (metadata, never media).
* S3 (SeaweedFS identities): each service that touches objects gets its own key with Read, Write
  and List on the one bucket, and no Admin (cannot create or delete buckets, manage identities or
  set the bucket policy) and no Tagging (no service uses object tags). Those actions can only be
  scoped to a bucket and key prefix, and every stage writes under `assets/<asset_id>/...`, so on top
  of them the bucket carries a policy (s3_bucket_policy, set with the admin key by the S3Server
  component): each service identity is denied PutObject (multipart and copy included),
  DeleteObject (batch deletes included) and AbortMultipartUpload on every key pattern another
  service owns in STAGE_WRITES. So tagging cannot overwrite or delete ingest's proxy, nor qc an
  enhance rendition. Not least privilege: reads are not limited (every stage reads others'
  outputs: proxy, audio, tags), keys outside STAGE_WRITES (none are written by a service today)
  are open to every service key, and a `*` in a pattern also matches `/`, so a service cannot write
  a key of its own that happens to end like another's pattern (the tests check the real key shapes
  against the table). The library has no S3 key at all (it never reads objects).
* The admin identities (NATS user, S3 key, admin token) are what the CLI and operators use.
* gRPC: one token per role for people (viewer, editor, reviewer, admin) and one per service,
  with the role SERVICE_ROLE (services call no other service today; the token is there so a
  future call is authenticated and named). The servers hold only SHA-256 digests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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

# service -> the object key patterns (AWS policy wildcards: `*` any run of characters, `/`
# included; `?` one character) that it alone writes or deletes. Every other service key is denied
# writing and deleting them (s3_bucket_policy). Read from the services' code (asset_key/project_key
# beside each put_bytes/put_file/delete); a key a service writes that matches ANOTHER service's
# pattern is refused with AccessDenied, so test_stage_writes_match_the_services_keys holds an
# example of every key shape. No key is written by two services today, so no pattern is shared
# (a shared one would have to stay out of this table, unprotected).
STAGE_WRITES: Final[dict[str, tuple[str, ...]]] = {
    "ingest": (
        "assets/*/original",  # the uploaded file, named original<.suffix> (suffix when safe)
        "assets/*/original.*",
        "assets/*/proxy.mp4",
        "assets/*/poster.jpg",
        "assets/*/audio_16k_mono.wav",
        "assets/*/audio_16k_channels.wav",
        "assets/*/ingest.json",  # the manifest, written last: "this asset is ingested"
    ),
    "tagging": ("assets/*/tagging/*", "assets/*/keyframes/*"),
    "asr": ("assets/*/asr/*", "assets/*/subtitles/*", "projects/*/asr/*"),
    "picks": ("assets/*/picks/*", "projects/*/picks/*", "projects/*/cuts/*"),
    # One folder per fix (rushes_enhance.fixes.FIXES): renditions/external/ is qc's.
    "enhance": (
        "assets/*/renditions/stabilize/*",
        "assets/*/renditions/denoise/*",
        "assets/*/renditions/upscale/*",
        "assets/*/enhance/*",
    ),
    "grading": ("assets/*/grading/*", "projects/*/look/*"),
    "qc": ("assets/*/qc/*", "assets/*/renditions/external/*"),
}

# What a service key may not do to another service's objects. Each is checked against a real
# SeaweedFS by the tests: it accepts unknown action names silently, so an untested one proves nothing.
S3_DENIED_ACTIONS: Final = ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")

# The account in the ARN SeaweedFS gives an identity that names no account of its own: its
# principal is arn:aws:iam::000000000000:user/<identity name>.
S3_ACCOUNT_ID: Final = "000000000000"

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
        f"{api}.STREAM.CREATE.{stream}",  # a missing stream is created as the settings say; never edited
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
    """SeaweedFS actions of a service key: data on the one bucket, no Admin, no object tags."""
    return [f"{action}:{bucket}" for action in ("Read", "Write", "List")]


def s3_identity_name(service: str) -> str:
    """The SeaweedFS identity of `service`'s key (what bucket policies name as the principal)."""
    return f"service-{service}"


def s3_principal(service: str) -> str:
    return f"arn:aws:iam::{S3_ACCOUNT_ID}:user/{s3_identity_name(service)}"


def s3_bucket_policy(bucket: str, services: Iterable[str]) -> dict[str, Any] | None:
    """The bucket policy that keeps each of `services` (those with an S3 key) off every other
    service's objects in STAGE_WRITES; None when there is no service (SeaweedFS refuses a policy
    without statements). A service missing from STAGE_WRITES is denied every listed pattern."""
    statements = []
    for service in sorted(set(services)):
        foreign = sorted(
            {
                f"arn:aws:s3:::{bucket}/{pattern}"
                for owner, patterns in STAGE_WRITES.items()
                if owner != service
                for pattern in patterns
            }
        )
        statements.append(
            {
                "Sid": "NoForeignWrites" + re.sub(r"[^A-Za-z0-9]", "", service.title()),
                "Effect": "Deny",
                "Principal": {"AWS": [s3_principal(service)]},
                "Action": list(S3_DENIED_ACTIONS),
                "Resource": foreign,
            }
        )
    if not statements:
        return None
    return {"Version": "2012-10-17", "Statement": statements}


# What every service key may do anywhere in the bucket under a MinIO user policy (reads, listings,
# resuming multipart uploads): stages read each other's outputs, so reads stay bucket-wide.
S3_READ_ACTIONS: Final = (
    "s3:GetObject",
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
)

# A valid S3 bucket name: nothing that would widen or break the ARNs built from it (`*`, `/`, `?`).
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def s3_user_policy(service: str, bucket: str) -> dict[str, Any]:
    """The MinIO IAM policy of `service`'s own user (the Helm chart renders the same document per
    service, `security.s3Policies`): read actions on the whole bucket, and S3_DENIED_ACTIONS (the
    writes) on `service`'s own STAGE_WRITES patterns only.

    Allow-only, unlike s3_bucket_policy: a MinIO user policy is default-deny, so what is not allowed
    here is refused, while SeaweedFS identities already hold Write on the whole bucket and the local
    stack can only take back with Deny. So a service missing from STAGE_WRITES (or listed with no
    pattern) gets no write statement at all: it can read but write nothing (fails closed)."""
    if not _BUCKET_NAME.fullmatch(bucket):
        raise ValueError(f"s3_user_policy: {bucket!r} is not an S3 bucket name (3-63 of a-z 0-9 . -)")
    bucket_arn = f"arn:aws:s3:::{bucket}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadTheBucket",
            "Effect": "Allow",
            "Action": list(S3_READ_ACTIONS),
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
        }
    ]
    if own := STAGE_WRITES.get(service):
        statements.append(
            {
                "Sid": "WriteOwnOutputs",
                "Effect": "Allow",
                "Action": list(S3_DENIED_ACTIONS),
                "Resource": [f"{bucket_arn}/{pattern}" for pattern in own],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def key_pattern_matches(pattern: str, key: str) -> bool:
    """Whether an S3 policy resource pattern matches `key` (`*`: any run, `/` included; `?`: one)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, key, flags=re.DOTALL) is not None


def key_owners(key: str) -> list[str]:
    """The services whose STAGE_WRITES patterns match `key` (only they may write it)."""
    return [
        service
        for service, patterns in STAGE_WRITES.items()
        if any(key_pattern_matches(pattern, key) for pattern in patterns)
    ]


def needs_object_store(service: str) -> bool:
    return service not in WITHOUT_OBJECT_STORE
