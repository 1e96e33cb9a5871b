"""Reading and editing an asset's descriptive and administrative tiers, against the catalog database.

An edit is one transaction under the asset's lock: compare the record version the editor saw
with the stored one (optimistic concurrency: a stale edit is refused, never merged), write the
tiers and bump the version, append the audit entry (who, when, old and new of every field), and
rebuild the asset's search rows so the change is searchable as soon as it is committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from rushes_library.catalog import (
    _ASSET_LOCK_CLASS,
    InvalidRequest,
    _insert_audit,
    _load_state,
    pg_safe,
)
from rushes_library.catalog_index import reindex_asset
from rushes_library.corrections import CorrectionRefused
from rushes_library.database import AsyncConn, Database
from rushes_library.metadata_edit import (
    FieldChange,
    MetadataEdit,
    MetadataError,
    apply_changes,
    diff,
    validate,
)
from rushes_library.projection import AuditRecord
from rushes_library.review_desk import _asset_id
from rushes_library.taxonomy import Taxonomy, load_taxonomy

# The audit event type of an edit: not a bus subject (nothing else needs to react), but named like one.
METADATA_UPDATED = "rushes.v1.asset.metadata_updated"


@dataclass(frozen=True)
class AssetMetadata:
    asset_id: str
    project: str
    record_version: int
    descriptive: dict[str, Any]
    administrative: dict[str, Any]
    structural: dict[str, Any]


@dataclass(frozen=True)
class MetadataUpdate:
    metadata: AssetMetadata
    changes: list[FieldChange] = field(default_factory=list)
    change_id: str = ""


class MetadataDesk:
    def __init__(self, db: Database, taxonomy: Taxonomy | None = None) -> None:
        self._db = db
        self._taxonomy = taxonomy or load_taxonomy()

    async def get(self, asset_ref: str) -> AssetMetadata:
        async with self._db.connection() as conn, conn.transaction():
            return await _read(conn, await _asset_id(conn, asset_ref))

    async def update(
        self,
        asset_ref: str,
        edit: MetadataEdit,
        *,
        expected_record_version: int,
        editor: str,
        principal: str = "",
        note: str = "",
    ) -> MetadataUpdate:
        """Raises AssetNotFound / InvalidRequest (bad field, named), CorrectionRefused("stale")."""
        who = (principal or editor).strip()
        if not who:
            raise InvalidRequest("editor is required (who makes the change)")
        if expected_record_version <= 0:
            raise InvalidRequest(
                "expected_record_version is required: read it with GetMetadata (`rushes meta show`)"
            )
        try:
            wanted = validate(edit, self._taxonomy)
        except MetadataError as exc:
            raise InvalidRequest(str(exc)) from exc
        now = datetime.now(UTC)
        change_id = uuid.uuid4().hex
        async with self._db.connection() as conn, conn.transaction():
            asset_id = await _asset_id(conn, asset_ref)
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_ASSET_LOCK_CLASS, asset_id)
            )
            stored = await _read(conn, asset_id)
            if stored.record_version != expected_record_version:
                raise CorrectionRefused(
                    "stale",
                    f"asset {asset_id} changed since you read it (record version "
                    f"{stored.record_version}, you saw {expected_record_version}); read it again",
                )
            changes = diff(
                {"descriptive": stored.descriptive, "administrative": stored.administrative}, wanted
            )
            if not changes:
                return MetadataUpdate(metadata=stored)
            tiers = apply_changes(
                {"descriptive": stored.descriptive, "administrative": stored.administrative}, changes
            )
            cursor = await conn.execute(
                "UPDATE assets SET descriptive = %s, administrative = %s,"
                " record_version = record_version + 1, updated_at = now()"
                " WHERE asset_id = %s RETURNING status",
                (Jsonb(pg_safe(tiers["descriptive"])), Jsonb(pg_safe(tiers["administrative"])), asset_id),
            )
            row = await cursor.fetchone()
            assert row is not None  # we hold the asset's lock and just read it
            state, _ = await _load_state(conn, asset_id)
            assert state is not None
            await reindex_asset(conn, state, str(row["status"]))
            await _insert_audit(
                conn,
                AuditRecord(
                    asset_id=asset_id,
                    time=now,
                    event_type=METADATA_UPDATED,
                    event_id=change_id,
                    producer="library",
                    producer_version="",
                    principal=pg_safe(who),
                    trace_id="",
                    summary=pg_safe(f"{who} changed {', '.join(c.field for c in changes)}"),
                    data=pg_safe(
                        {
                            "editor": editor,
                            "note": note,
                            "record_version": stored.record_version + 1,
                            "changes": [c.to_json() for c in changes],
                        }
                    ),
                ),
            )
            updated = await _read(conn, asset_id)
        return MetadataUpdate(metadata=updated, changes=changes, change_id=change_id)


async def _read(conn: AsyncConn, asset_id: str) -> AssetMetadata:
    cursor = await conn.execute(
        "SELECT asset_id, project, record_version, descriptive, administrative, structural"
        " FROM assets WHERE asset_id = %s",
        (asset_id,),
    )
    row = await cursor.fetchone()
    if row is None:
        raise InvalidRequest(f"asset {asset_id} vanished")  # resolved a moment ago in this transaction
    return AssetMetadata(
        asset_id=str(row["asset_id"]),
        project=str(row["project"]),
        record_version=int(row["record_version"]),
        descriptive=dict(row["descriptive"] or {}),
        administrative=dict(row["administrative"] or {}),
        structural=dict(row["structural"] or {}),
    )
