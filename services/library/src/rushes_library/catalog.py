"""The catalog in Postgres: record events (one transaction each) and read asset records back.

All decisions about what an event means live in `projection` and `state`; this module only loads
the current state, hands it to the projection and writes back what changed. The audit log is only
ever inserted into: there is no update or delete path for it here (and the database refuses one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict, ParseDict
from google.protobuf.message import Message
from psycopg import sql
from psycopg.types.json import Jsonb
from rushes.asset.v1 import asset_pb2

from rushes_library import stage_rules  # noqa: F401 - registers the later stages' event rules
from rushes_library.catalog_index import reindex_asset
from rushes_library.corrections import apply_correction
from rushes_library.database import AsyncConn, Database
from rushes_library.paging import (
    Cursor,
    InvalidPageToken,
    clamp_page_size,
    decode_page_token,
    encode_page_token,
)
from rushes_library.principals import acting_principal
from rushes_library.projection import MAX_ASSET_ID_CHARS, AuditRecord, project
from rushes_library.state import (
    ASSET_STATUSES,
    AssetState,
    AssetStatusName,
    StageState,
    derive_status,
)

MIN_PREFIX_CHARS = 8
REVIEWED = "rushes.v1.asset.reviewed"
# Key space of the per-asset transaction lock (the two-int form keeps it apart from the migration lock).
_ASSET_LOCK_CLASS = 0x52555348  # "RUSH"


class AssetNotFound(LookupError):
    """No asset has this id (or starts with this prefix)."""


class InvalidRequest(ValueError):
    """The caller's request cannot be answered as asked (malformed, ambiguous, bad filter)."""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    record: AuditRecord


@dataclass(frozen=True)
class AssetRecord:
    """One asset as stored: what GetAsset returns."""

    state: AssetState
    status: AssetStatusName
    created_at: datetime
    updated_at: datetime
    audit: list[AuditEntry] = field(default_factory=list)
    # The metadata tiers people edit (UpdateMetadata) and the version that guards those edits.
    tiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    record_version: int = 0


@dataclass(frozen=True)
class AssetPage:
    assets: list[AssetRecord]
    next_page_token: str


class Catalog:
    def __init__(self, db: Database, *, pipeline_stages: Sequence[str]) -> None:
        self._db = db
        self._pipeline_stages = tuple(pipeline_stages)

    @property
    def database(self) -> Database:
        return self._db

    # --- writing --------------------------------------------------------------------------------------

    async def record_event(
        self, subject: str, event: Message, *, received_at: datetime | None = None
    ) -> bool:
        """Audit the event and fold it into its asset, in one transaction.

        Returns False when this event id was recorded before (nothing changes: handling an event
        twice equals handling it once). Raises projection.InvalidEvent for an event that breaks its
        contract and database.CatalogUnavailable when Postgres cannot be reached.
        """
        projection = project(subject, event, received_at=received_at or datetime.now(UTC))
        async with self._db.connection() as conn, conn.transaction():
            if not await _insert_audit(conn, projection.audit):
                return False
            asset_id = projection.asset_id
            if projection.apply is None or asset_id is None:
                return True
            # Serialises every writer of this asset (replicas included), also when the row is new.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_ASSET_LOCK_CLASS, asset_id)
            )
            before, stored_status = await _load_state(conn, asset_id)
            after = projection.apply(before or AssetState(asset_id=asset_id))
            status = derive_status(after, self._pipeline_stages)
            if after != before or status != stored_status:
                await _save_state(conn, before, after, status)
            return True

    async def correct_value(
        self,
        asset_ref: str,
        *,
        shot_index: int,
        field: str,
        new_value: struct_pb2.Value,
        reviewer: str,
        note: str = "",
        principal: str = "",
        expected_tags_version: int,
    ) -> asset_pb2.Correction:
        """Apply a reviewer's correction, record it (corrections + audit log) in one transaction.

        Raises AssetNotFound / InvalidRequest for the reference, CorrectionRefused for the rest.
        """
        async with self._db.connection() as conn, conn.transaction():
            cursor = await conn.execute(_SELECT_ASSETS + " WHERE asset_id = %s", (asset_ref,))
            row = await cursor.fetchone() or await _find_by_prefix(conn, asset_ref)
            asset_id = row["asset_id"]
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_ASSET_LOCK_CLASS, asset_id)
            )
            before, status = await _load_state(conn, asset_id)
            assert before is not None and status is not None  # the row exists and we hold its lock
            after, correction = apply_correction(
                before,
                shot_index=shot_index,
                field=field,
                new_value=new_value,
                reviewer=reviewer,
                note=note,
                expected_tags_version=expected_tags_version,
                now=datetime.now(UTC),
            )
            record = MessageToDict(correction, preserving_proto_field_name=True)
            await _save_state(conn, before, after, cast(AssetStatusName, status))
            await conn.execute(
                "INSERT INTO corrections (correction_id, asset_id, project, corrected_at, record)"
                " VALUES (%s, %s, %s, %s, %s)",
                (correction.correction_id, asset_id, pg_safe(after.project), correction.corrected_at.ToDatetime(UTC),
                 Jsonb(pg_safe(record))),
            )  # fmt: skip
            item_id = f"shots/{shot_index}/values/{field}" if shot_index >= 0 else f"values/{field}"
            await conn.execute(
                "INSERT INTO review_verdicts (verdict_id, asset_id, project, item_id, kind, verdict, revision,"
                " reviewer, decided_at, old_value, new_value, note)"
                " VALUES (%s, %s, %s, %s, 'ai_value', 'corrected', %s, %s, %s, %s, %s, %s)",
                (correction.correction_id, asset_id, pg_safe(after.project), pg_safe(item_id),
                 f"tags_v{correction.tags_version}", pg_safe(reviewer), correction.corrected_at.ToDatetime(UTC),
                 Jsonb(pg_safe(record.get("old", {}))), Jsonb(pg_safe(record.get("new_value"))), pg_safe(note)),
            )  # fmt: skip
            where = f"shot {shot_index}" if shot_index >= 0 else "clip"
            await _insert_audit(
                conn,
                AuditRecord(
                    asset_id=asset_id,
                    time=correction.corrected_at.ToDatetime(UTC),
                    event_type=REVIEWED,
                    event_id=correction.correction_id,
                    producer="library",
                    producer_version="",
                    principal=pg_safe(acting_principal(principal, reviewer)),
                    trace_id="",
                    summary=pg_safe(
                        f"{reviewer} corrected {where} {field} (tags v{correction.tags_version})"
                    ),
                    data=pg_safe(record),
                ),
            )
        return correction

    async def list_corrections(self, *, project: str = "") -> list[asset_pb2.Correction]:
        """Every correction, oldest first (optionally of one project)."""
        async with self._db.connection() as conn:
            # One fixed statement: an empty project matches every project.
            cursor = await conn.execute(
                "SELECT record FROM corrections WHERE %s = '' OR project = %s ORDER BY seq",
                (project, project),
            )
            rows = await cursor.fetchall()
        return [ParseDict(row["record"], asset_pb2.Correction(), ignore_unknown_fields=True) for row in rows]

    # --- reading --------------------------------------------------------------------------------------

    async def get_asset(self, asset_ref: str, *, include_audit: bool = False) -> AssetRecord:
        """By full id or by a unique prefix of at least MIN_PREFIX_CHARS characters."""
        ref = asset_ref.strip()
        if not ref:
            raise InvalidRequest("asset_id is required")
        if len(ref) > MAX_ASSET_ID_CHARS:
            raise InvalidRequest(
                f"asset_id is too long ({len(ref)} characters, at most {MAX_ASSET_ID_CHARS})"
            )
        if not ref.isprintable():
            raise InvalidRequest("asset_id contains non-printable characters")
        async with self._db.connection() as conn, conn.transaction():
            cursor = await conn.execute(_SELECT_ASSETS + " WHERE asset_id = %s", (ref,))
            row = await cursor.fetchone()
            if row is None:
                row = await _find_by_prefix(conn, ref)
            stages = await _load_stages(conn, [row["asset_id"]])
            audit = await _load_audit(conn, row["asset_id"]) if include_audit else []
        return _record_from_row(row, stages.get(row["asset_id"], {}), audit)

    async def list_assets(
        self, *, project: str = "", status: str = "", page_size: int = 0, page_token: str = ""
    ) -> AssetPage:
        """Newest first, filtered by project and/or status, keyset-paginated."""
        if status and status not in ASSET_STATUSES:
            raise InvalidRequest(f"status {status!r} is not one of {', '.join(ASSET_STATUSES)}")
        limit = clamp_page_size(page_size)
        conditions: list[sql.Composable] = []
        params: list[Any] = []
        if project:
            conditions.append(sql.SQL("project = %s"))
            params.append(project)
        if status:
            conditions.append(sql.SQL("status = %s"))
            params.append(status)
        if page_token:
            try:
                after = decode_page_token(page_token, project=project, status=status)
            except InvalidPageToken as exc:
                raise InvalidRequest(str(exc)) from None
            conditions.append(sql.SQL("(created_at, asset_id) < (%s, %s)"))
            params.extend([after.created_at, after.asset_id])
        where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
        query = sql.SQL(_SELECT_ASSETS) + where + sql.SQL(" ORDER BY created_at DESC, asset_id DESC LIMIT %s")
        params.append(limit + 1)
        async with self._db.connection() as conn, conn.transaction():
            cursor = await conn.execute(query, params)
            rows = await cursor.fetchall()
            page, more = rows[:limit], len(rows) > limit
            stages = await _load_stages(conn, [row["asset_id"] for row in page])
        records = [_record_from_row(row, stages.get(row["asset_id"], {}), []) for row in page]
        token = ""
        if more:
            last = records[-1]
            token = encode_page_token(
                Cursor(created_at=last.created_at, asset_id=last.state.asset_id),
                project=project,
                status=status,
            )
        return AssetPage(assets=records, next_page_token=token)

    async def ping(self) -> bool:
        return await self._db.ping()


# --- SQL ------------------------------------------------------------------------------------------------

_SELECT_ASSETS = (
    "SELECT asset_id, project, status, source, technical, objects, rejection_reason, sections,"
    " created_at, updated_at, structural, descriptive, administrative, record_version"
    " FROM assets"
)

_INSERT_AUDIT = """
INSERT INTO audit_log (asset_id, time, event_type, event_id, producer, producer_version, principal,
                       trace_id, summary, data)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (event_id) DO NOTHING
RETURNING seq
"""

_UPSERT_ASSET = """
INSERT INTO assets (asset_id, project, status, source, technical, objects, rejection_reason, sections)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (asset_id) DO UPDATE SET
    sections = EXCLUDED.sections,
    project = EXCLUDED.project,
    status = EXCLUDED.status,
    source = EXCLUDED.source,
    technical = EXCLUDED.technical,
    objects = EXCLUDED.objects,
    rejection_reason = EXCLUDED.rejection_reason,
    record_version = assets.record_version + 1,
    updated_at = now()
"""

_UPSERT_STAGE = """
INSERT INTO asset_stages (asset_id, stage, status, started_at, finished_at, error, attempts)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (asset_id, stage) DO UPDATE SET
    status = EXCLUDED.status,
    started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at,
    error = EXCLUDED.error,
    attempts = EXCLUDED.attempts
"""


async def _insert_audit(conn: AsyncConn, audit: AuditRecord) -> bool:
    cursor = await conn.execute(
        _INSERT_AUDIT,
        (
            audit.asset_id,
            audit.time,
            pg_safe(audit.event_type),
            pg_safe(audit.event_id),
            pg_safe(audit.producer),
            pg_safe(audit.producer_version),
            pg_safe(audit.principal),
            pg_safe(audit.trace_id),
            pg_safe(audit.summary),
            Jsonb(pg_safe(dict(audit.data))),
        ),
    )
    return await cursor.fetchone() is not None


async def _load_state(conn: AsyncConn, asset_id: str) -> tuple[AssetState | None, str | None]:
    """The asset's current state and stored status; (None, None) when it has no row yet."""
    cursor = await conn.execute(_SELECT_ASSETS + " WHERE asset_id = %s", (asset_id,))
    row = await cursor.fetchone()
    if row is None:
        return None, None
    stages = await _load_stages(conn, [asset_id])
    return _state_from_row(row, stages.get(asset_id, {})), row["status"]


async def _save_state(
    conn: AsyncConn, before: AssetState | None, after: AssetState, status: AssetStatusName
) -> None:
    await conn.execute(
        _UPSERT_ASSET,
        (
            after.asset_id,
            pg_safe(after.project),
            status,
            Jsonb(pg_safe(dict(after.source))),
            Jsonb(pg_safe(dict(after.technical))),
            Jsonb(pg_safe(dict(after.objects))),
            pg_safe(after.rejection_reason),
            Jsonb(pg_safe(dict(after.sections))),
        ),
    )
    # The search index and the review queue follow the record in the same transaction.
    await reindex_asset(
        conn,
        replace(
            after,
            project=pg_safe(after.project),
            source=pg_safe(dict(after.source)),
            technical=pg_safe(dict(after.technical)),
            sections=pg_safe(dict(after.sections)),
        ),
        status,
    )
    old_stages = before.stages if before else {}
    for name, stage in after.stages.items():
        if old_stages.get(name) != stage:
            await conn.execute(
                _UPSERT_STAGE,
                (
                    after.asset_id,
                    pg_safe(name),
                    stage.status,
                    stage.started_at,
                    stage.finished_at,
                    pg_safe(stage.error),
                    stage.attempts,
                ),
            )


def pg_safe(value: Any) -> Any:
    """`value` with NUL characters replaced: Postgres text and jsonb cannot hold U+0000, and an
    untrusted file name or error message must not make an event unrecordable."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {pg_safe(k): pg_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pg_safe(v) for v in value]
    return value


async def _find_by_prefix(conn: AsyncConn, prefix: str) -> dict[str, Any]:
    if len(prefix) < MIN_PREFIX_CHARS:
        raise InvalidRequest(
            f"asset {prefix!r} not found, and a prefix must have at least {MIN_PREFIX_CHARS} characters"
        )
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    cursor = await conn.execute(
        _SELECT_ASSETS + " WHERE asset_id LIKE %s ORDER BY asset_id LIMIT 3", (pattern,)
    )
    rows = await cursor.fetchall()
    if not rows:
        raise AssetNotFound(f"no asset has id or prefix {prefix!r}")
    if len(rows) > 1:
        shown = ", ".join(row["asset_id"] for row in rows[:2]) + (", ..." if len(rows) > 2 else "")
        raise InvalidRequest(f"asset prefix {prefix!r} is ambiguous (matches {shown}); give more characters")
    return cast(dict[str, Any], rows[0])


async def _load_stages(conn: AsyncConn, asset_ids: Iterable[str]) -> dict[str, dict[str, StageState]]:
    ids = list(asset_ids)
    if not ids:
        return {}
    cursor = await conn.execute(
        "SELECT asset_id, stage, status, started_at, finished_at, error, attempts"
        " FROM asset_stages WHERE asset_id = ANY(%s) ORDER BY asset_id, stage",
        (ids,),
    )
    stages: dict[str, dict[str, StageState]] = {}
    for row in await cursor.fetchall():
        stages.setdefault(row["asset_id"], {})[row["stage"]] = StageState(
            status=row["status"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            error=row["error"],
            attempts=row["attempts"],
        )
    return stages


async def _load_audit(conn: AsyncConn, asset_id: str) -> list[AuditEntry]:
    cursor = await conn.execute(
        "SELECT seq, asset_id, time, event_type, event_id, producer, producer_version, principal,"
        " trace_id, summary, data FROM audit_log WHERE asset_id = %s ORDER BY seq",
        (asset_id,),
    )
    return [
        AuditEntry(
            seq=row["seq"],
            record=AuditRecord(
                asset_id=row["asset_id"],
                time=row["time"],
                event_type=row["event_type"],
                event_id=row["event_id"],
                producer=row["producer"],
                producer_version=row["producer_version"],
                principal=row["principal"],
                trace_id=row["trace_id"],
                summary=row["summary"],
                data=row["data"],
            ),
        )
        for row in await cursor.fetchall()
    ]


def _state_from_row(row: dict[str, Any], stages: dict[str, StageState]) -> AssetState:
    return AssetState(
        asset_id=row["asset_id"],
        project=row["project"],
        source=row["source"],
        technical=row["technical"],
        objects=row["objects"],
        rejected=row["status"] == "rejected",
        rejection_reason=row["rejection_reason"],
        stages=stages,
        sections=row["sections"],
    )


def _record_from_row(
    row: dict[str, Any], stages: dict[str, StageState], audit: list[AuditEntry]
) -> AssetRecord:
    return AssetRecord(
        state=_state_from_row(row, stages),
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        audit=audit,
        tiers={tier: dict(row.get(tier) or {}) for tier in ("structural", "descriptive", "administrative")},
        record_version=int(row.get("record_version") or 0),
    )
