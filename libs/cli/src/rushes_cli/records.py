"""The asset record as JSON: the public contract scripts parse (see BRIEF.md)."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message


def to_json_dict(message: Message) -> dict[str, Any]:
    """proto -> dict with the contract's snake_case names, defaults included so keys are stable."""
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )


def asset_record(asset: Message) -> dict[str, Any]:
    record = to_json_dict(asset)
    # Stable, documented key order for people reading the JSON.
    order = ["asset_id", "status", "project", "source", "technical", "objects", "stages", "audit"]
    return {
        **{k: record[k] for k in order if k in record},
        **{k: v for k, v in record.items() if k not in order},
    }
