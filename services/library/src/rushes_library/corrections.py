"""A reviewer's correction of one AI value, applied to the asset record (pure: no SQL).

The corrected value becomes the record's value with confidence 1 and model "human"; the old
decision (value, confidence, reasons, model and version) is kept in the Correction, which is the
feedback data for retraining. Corrections name the tags version they were made against, so a
verdict on tags that changed meanwhile is refused instead of landing on the wrong value.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from google.protobuf import json_format, struct_pb2
from rushes.asset.v1 import asset_pb2

from rushes_library.state import AssetState

HUMAN_MODEL = "human"
HUMAN_MODEL_VERSION = "review"
MAX_REVIEWER_CHARS = 128
MAX_NOTE_CHARS = 2000


class CorrectionRefused(ValueError):
    """Why a correction cannot apply; `kind` maps to a gRPC code."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "invalid" | "not_found" | "stale"


def apply_correction(
    state: AssetState,
    *,
    shot_index: int,
    field: str,
    new_value: struct_pb2.Value,
    reviewer: str,
    note: str,
    expected_tags_version: int,
    now: datetime,
) -> tuple[AssetState, asset_pb2.Correction]:
    if not reviewer or len(reviewer) > MAX_REVIEWER_CHARS or not reviewer.isprintable():
        raise CorrectionRefused("invalid", "reviewer is required: printable, at most 128 characters")
    if len(note) > MAX_NOTE_CHARS:
        raise CorrectionRefused("invalid", f"note is longer than {MAX_NOTE_CHARS} characters")
    if not field or not field.isidentifier():
        raise CorrectionRefused("invalid", f"field {field!r} is not a field name")
    if new_value.WhichOneof("kind") is None:
        raise CorrectionRefused("invalid", "the new value is missing")
    current_version = int(state.sections.get("tags_version", 0) or 0)
    if current_version == 0:
        raise CorrectionRefused("not_found", f"asset {state.asset_id} has no tags to correct yet")
    if expected_tags_version != current_version:
        raise CorrectionRefused(
            "stale",
            f"the tags changed since you looked: you reviewed version {expected_tags_version}, "
            f"the asset is now at version {current_version}; reload and review again",
        )
    sections = copy.deepcopy(dict(state.sections))
    if shot_index >= 0:
        shots: list[dict[str, Any]] = sections.get("shots", [])
        if shot_index >= len(shots):
            raise CorrectionRefused("not_found", f"asset {state.asset_id} has no shot {shot_index}")
        target = shots[shot_index].setdefault("values", {})
        keyframe = str(shots[shot_index].get("keyframe", ""))
    else:
        target = sections.setdefault("values", {})
        keyframe = ""
    if field not in target:
        raise CorrectionRefused(
            "not_found",
            f"{'shot ' + str(shot_index) if shot_index >= 0 else 'the clip'} has no value {field!r}",
        )
    old = json_format.ParseDict(target[field], asset_pb2.AiValue(), ignore_unknown_fields=True)
    corrected = asset_pb2.AiValue(
        value=new_value,
        confidence=1.0,
        reasons=["human_correction", f"by:{reviewer}"],
        model=HUMAN_MODEL,
        model_version=HUMAN_MODEL_VERSION,
        needs_review=False,
    )
    target[field] = json_format.MessageToDict(
        corrected, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    correction = asset_pb2.Correction(
        correction_id=uuid.uuid4().hex,
        asset_id=state.asset_id,
        project=state.project,
        tags_version=current_version,
        tag_preset=str(sections.get("tag_preset", "")),
        shot_index=shot_index,
        field=field,
        old=old,
        new_value=new_value,
        reviewer=reviewer,
        note=note,
        keyframe=keyframe,
    )
    correction.corrected_at.FromDatetime(now)
    return replace(state, sections=sections), correction
