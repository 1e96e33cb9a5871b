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
from rushes_library.state import StageState


def asset_to_proto(record: AssetRecord) -> asset_pb2.Asset:
    state = record.state
    asset = asset_pb2.Asset(
        asset_id=state.asset_id,
        status=record.status,
        project=state.project,
        rejection_reason=state.rejection_reason,
        objects=dict(state.objects),
    )
    _parse_into(state.sections, asset)
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
