"""Catalog records as rushes.asset.v1.Asset: the public asset-record contract.

Pure (protobuf only). JSON stored from a newer producer may hold fields this build does not know;
they are ignored rather than failing the read, so an older library keeps serving newer records.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.protobuf.json_format import ParseDict
from google.protobuf.timestamp_pb2 import Timestamp
from rushes.asset.v1 import asset_pb2

from rushes_library.catalog import AssetRecord, AuditEntry
from rushes_library.review_queue import review_items
from rushes_library.state import StageState

# Bookkeeping the projection keeps beside the record's content; not part of the public record.
INTERNAL_SECTIONS: frozenset[str] = frozenset()


def asset_to_proto(record: AssetRecord) -> asset_pb2.Asset:
    state = record.state
    asset = asset_pb2.Asset(
        asset_id=state.asset_id,
        status=record.status,
        project=state.project,
        rejection_reason=state.rejection_reason,
        objects=dict(state.objects),
    )
    known = {field.name for field in asset_pb2.Asset.DESCRIPTOR.fields}
    _parse_into({k: v for k, v in state.sections.items() if k in known}, asset)
    others = {k: v for k, v in state.sections.items() if k not in known and k not in INTERNAL_SECTIONS}
    if others:
        asset.sections.update(others)
    # The open review queue of this asset (`review` in `rushes show --json`), derived like the
    # review_items table so the record and `rushes review show` agree.
    items = review_items(state)
    if items:
        asset.sections.update({"review": [item.to_json() for item in items]})
    # The metadata tiers (`structural`, `descriptive`, `administrative` in `rushes show --json`)
    # and the record version an edit must name (UpdateMetadata).
    asset.sections.update({**record.tiers, "record_version": record.record_version})
    _parse_into(state.source, asset.source)
    _parse_into(state.technical, asset.technical)
    for name, stage in state.stages.items():
        asset.stages[name].CopyFrom(stage_to_proto(stage))
    asset.audit.extend(audit_to_proto(entry) for entry in record.audit)
    _set_time(asset.created_at, record.created_at)
    _set_time(asset.updated_at, record.updated_at)
    return asset


def stage_to_proto(stage: StageState) -> asset_pb2.StageStatus:
    status = asset_pb2.StageStatus(status=stage.status, error=stage.error, attempts=stage.attempts)
    _set_time(status.started_at, stage.started_at)
    _set_time(status.finished_at, stage.finished_at)
    return status


def audit_to_proto(entry: AuditEntry) -> asset_pb2.AuditEntry:
    record = entry.record
    proto = asset_pb2.AuditEntry(
        seq=entry.seq,
        event_type=record.event_type,
        event_id=record.event_id,
        producer=record.producer,
        producer_version=record.producer_version,
        principal=record.principal,
        summary=record.summary,
    )
    _set_time(proto.time, record.time)
    proto.data.update(dict(record.data))
    return proto


def _parse_into(data: Mapping[str, Any], message: Any) -> None:
    if data:
        ParseDict(dict(data), message, ignore_unknown_fields=True)


def _set_time(target: Timestamp, value: datetime | None) -> None:
    if value is not None:
        target.FromDatetime(value)
