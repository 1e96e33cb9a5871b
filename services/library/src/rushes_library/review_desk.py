"""Review queue reads, accept/reject verdicts and the audit trail, against the catalog database.

A verdict is one transaction: the asset record changes (the item leaves the queue), the verdict
row (append-only), and the audit log entry, all or nothing, under the asset's lock so that a
verdict and a retag cannot interleave.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from psycopg import sql
from psycopg.types.json import Jsonb
from rushes_metrics import record_review_verdict

from rushes_library.audit_trail import Decision, decisions_in
from rushes_library.catalog import (
    _ASSET_LOCK_CLASS,
    _SELECT_ASSETS,
    REVIEWED,
    AuditEntry,
    InvalidRequest,
    _find_by_prefix,
    _insert_audit,
    _load_audit,
    _load_state,
    _save_state,
    pg_safe,
)
from rushes_library.database import AsyncConn, Database
from rushes_library.principals import acting_principal
from rushes_library.projection import AuditRecord
from rushes_library.review_queue import ReviewItem, Verdict, apply_verdict
from rushes_library.state import AssetStatusName

MAX_ITEMS = 1000
DEFAULT_ITEMS = 100


@dataclass(frozen=True)
class VerdictRecord:
    verdict_id: str
    verdict: Verdict
    item: ReviewItem
    reviewer: str
    decided_at: datetime
    note: str


@dataclass(frozen=True)
class AuditTrail:
    asset_id: str
    entries: list[tuple[AuditEntry, list[Decision]]]


class ReviewDesk:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list_items(
        self, *, project: str = "", kind: str = "", asset_ref: str = "", limit: int = 0
    ) -> list[dict[str, Any]]:
        """Open items, lowest confidence first (those most likely wrong), as JSON records."""
        limit = DEFAULT_ITEMS if limit == 0 else limit
        if not 1 <= limit <= MAX_ITEMS:
            raise InvalidRequest(f"limit {limit} is out of range 1..{MAX_ITEMS}")
        conditions: list[sql.Composable] = []
        params: list[Any] = []
        async with self._db.connection() as conn, conn.transaction():
            if asset_ref:
                conditions.append(sql.SQL("asset_id = %s"))
                params.append(await _asset_id(conn, asset_ref))
            if project:
                conditions.append(sql.SQL("project = %s"))
                params.append(project)
            if kind:
                conditions.append(sql.SQL("kind = %s"))
                params.append(kind)
            where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
            cursor = await conn.execute(
                sql.SQL("SELECT item FROM review_items")
                + where
                + sql.SQL(" ORDER BY confidence ASC NULLS FIRST, queued_at, asset_id, item_id LIMIT %s"),
                [*params, limit],
            )
            return [dict(row["item"]) for row in await cursor.fetchall()]

    async def decide(
        self,
        asset_ref: str,
        *,
        item_id: str,
        verdict: str,
        expected_revision: str,
        reviewer: str,
        note: str = "",
        principal: str = "",
    ) -> VerdictRecord:
        """Raises AssetNotFound / InvalidRequest for the reference, CorrectionRefused for the rest."""
        now = datetime.now(UTC)
        verdict_id = uuid.uuid4().hex
        async with self._db.connection() as conn, conn.transaction():
            asset_id = await _asset_id(conn, asset_ref)
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_ASSET_LOCK_CLASS, asset_id)
            )
            before, status = await _load_state(conn, asset_id)
            assert before is not None and status is not None  # the row exists and we hold its lock
            after, item = apply_verdict(
                before,
                item_id=item_id,
                verdict=cast(Verdict, verdict),
                expected_revision=expected_revision,
                reviewer=reviewer,
                note=note,
                now=now,
            )
            await _save_state(conn, before, after, cast(AssetStatusName, status))
            record = pg_safe(
                {"verdict": verdict, "verdict_id": verdict_id, "reviewer": reviewer, "note": note,
                 "item": item.to_json()}
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO review_verdicts (verdict_id, asset_id, project, item_id, kind, verdict, revision,"
                " reviewer, decided_at, old_value, new_value, note)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (verdict_id, asset_id, pg_safe(item.project), pg_safe(item.item_id), item.kind, verdict,
                 item.revision, pg_safe(reviewer), now, Jsonb(pg_safe(item.value)),
                 Jsonb(pg_safe(item.value)) if verdict == "accepted" else None, pg_safe(note)),
            )  # fmt: skip
            where = f"shot {item.shot_index}" if item.shot_index >= 0 else item.kind
            await _insert_audit(
                conn,
                AuditRecord(
                    asset_id=asset_id,
                    time=now,
                    event_type=REVIEWED,
                    event_id=verdict_id,
                    producer="library",
                    producer_version="",
                    principal=pg_safe(acting_principal(principal, reviewer)),
                    trace_id="",
                    summary=pg_safe(f"{reviewer} {verdict} {where} {item.field} ({item.item_id})"),
                    data=record,
                ),
            )
        record_review_verdict(metric_output(item.field or item.kind), verdict)
        return VerdictRecord(verdict_id, cast(Verdict, verdict), item, reviewer, now, note)

    async def audit_trail(self, asset_ref: str) -> AuditTrail:
        async with self._db.connection() as conn, conn.transaction():
            asset_id = await _asset_id(conn, asset_ref)
            cursor = await conn.execute(
                "SELECT source ->> 'sha256' AS sha FROM assets WHERE asset_id = %s", (asset_id,)
            )
            row = await cursor.fetchone()
            sha = str((row or {}).get("sha") or "")
            entries = await _load_audit(conn, asset_id)
        return AuditTrail(
            asset_id=asset_id,
            entries=[
                (entry, decisions_in(entry.record.event_type, entry.record.data, input_sha256=sha))
                for entry in entries
            ],
        )


async def _asset_id(conn: AsyncConn, asset_ref: str) -> str:
    ref = asset_ref.strip()
    if not ref or len(ref) > 256 or not ref.isprintable():
        raise InvalidRequest("asset_id is required (printable, at most 256 characters)")
    cursor = await conn.execute(_SELECT_ASSETS + " WHERE asset_id = %s", (ref,))
    row = await cursor.fetchone() or await _find_by_prefix(conn, ref)
    return str(row["asset_id"])


def metric_output(name: str) -> str:
    """A bounded label: field names are identifiers; anything else counts as "other"."""
    return name if re.fullmatch(r"[a-z0-9_.-]{1,63}", name) else "other"
