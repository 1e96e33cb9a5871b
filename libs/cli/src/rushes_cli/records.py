"""The asset record as JSON: the public contract scripts parse (see BRIEF.md)."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

_INT64_TYPES = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
}


def _numbers(descriptor: Descriptor, data: dict[str, Any]) -> dict[str, Any]:
    """Proto3 JSON writes 64-bit integers as strings; the record contract has them as numbers
    (frame counts, byte sizes), which JSON and every script handle exactly up to 2**53."""
    for field in descriptor.fields:
        if field.name not in data:
            continue
        value = data[field.name]
        if field.type in _INT64_TYPES:
            data[field.name] = [int(v) for v in value] if isinstance(value, list) else int(value)
        elif field.message_type is not None and not field.message_type.GetOptions().map_entry:
            if field.message_type.full_name.startswith("google.protobuf."):
                continue
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict):
                    _numbers(field.message_type, item)
        elif field.message_type is not None:  # a map: convert its values
            value_field = field.message_type.fields_by_name["value"]
            if value_field.message_type is not None and isinstance(value, dict):
                for item in value.values():
                    if isinstance(item, dict):
                        _numbers(value_field.message_type, item)
    return data


def to_json_dict(message: Message) -> dict[str, Any]:
    """proto -> dict with the contract's snake_case names, defaults included so keys are stable."""
    data = json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
    return _numbers(message.DESCRIPTOR, data)


def asset_record(asset: Message) -> dict[str, Any]:
    record = to_json_dict(asset)
    # Later stages' sections (picks, renditions, grading, qc...) travel in one Struct; the record
    # shows each at the top level, like the sections with their own fields.
    for name, section in (record.pop("sections", None) or {}).items():
        record.setdefault(name, section)
    # Stable, documented key order for people reading the JSON.
    order = ["asset_id", "status", "project", "source", "technical", "objects", "stages", "shots", "audit"]
    return {
        **{k: record[k] for k in order if k in record},
        **{k: v for k, v in record.items() if k not in order},
    }
