"""Reviewer corrections: applied with who/when/old/new, refused on stale tags, exported, append-only."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from google.protobuf import struct_pb2
from library_test_events import at, envelope, ingested, run
from rushes.events.v1 import events_pb2
from rushes_library.catalog import Catalog
from rushes_library.corrections import CorrectionRefused


def _value(value: object) -> struct_pb2.Value:
    holder = struct_pb2.Struct()
    holder.update({"v": value})
    return holder.fields["v"]


async def _tagged_asset(catalog: Catalog, *, version: int = 1, project: str = "doc") -> str:
    asset_id = uuid.uuid4().hex
    await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=asset_id, project=project))
    event = events_pb2.AssetTagged(
        envelope=envelope("rushes.v1.asset.tagged", asset_id=asset_id),
        run=run("tagging", at(6), at(8)),
        preset="documentary",
        tags_version=version,
    )
    shot = event.shots.add(
        index=0, start_frame=0, end_frame=50, keyframe=f"assets/{asset_id}/keyframes/v1/shot_0000.jpg"
    )
    shot.values["shot_type"].value.string_value = "medium"
    shot.values["shot_type"].confidence = 0.3
    shot.values["shot_type"].model = "rushes.shot_type"
    shot.values["shot_type"].model_version = "1.0.0"
    shot.values["shot_type"].needs_review = True
    await catalog.record_event("rushes.v1.asset.tagged", event)
    return asset_id


async def test_correction_replaces_the_value_and_keeps_the_old_decision(
    catalog: Catalog, migrated_dsn: str
) -> None:
    asset_id = await _tagged_asset(catalog)
    correction = await catalog.correct_value(
        asset_id[:10], shot_index=0, field="shot_type", new_value=_value("close_up"),
        reviewer="ana", note="face fills the frame", expected_tags_version=1,
    )  # fmt: skip
    assert correction.reviewer == "ana" and correction.corrected_at.seconds > 0
    assert correction.old.value.string_value == "medium" and correction.old.confidence == pytest.approx(0.3)
    assert correction.old.model == "rushes.shot_type"
    assert correction.new_value.string_value == "close_up"
    assert correction.keyframe.endswith("shot_0000.jpg") and correction.tag_preset == "documentary"

    record = await catalog.get_asset(asset_id, include_audit=True)
    value = record.state.sections["shots"][0]["values"]["shot_type"]
    assert value["value"] == "close_up" and value["confidence"] == 1.0 and value["model"] == "human"
    assert value["needs_review"] is False
    reviewed = [a for a in record.audit if a.record.event_type == "rushes.v1.asset.reviewed"]
    assert len(reviewed) == 1 and reviewed[0].record.principal == "ana"

    exported = await catalog.list_corrections(project="doc")
    assert [c.correction_id for c in exported][-1] == correction.correction_id
    assert await catalog.list_corrections(project="no-such-project") == []

    # The announcement of this verdict, consumed back by the library, changes nothing.
    announcement = events_pb2.AssetReviewed(
        envelope=envelope("rushes.v1.asset.reviewed", asset_id=asset_id),
        verdict="corrected",
        correction=correction,
    )
    announcement.envelope.id = correction.correction_id
    assert await catalog.record_event("rushes.v1.asset.reviewed", announcement) is False

    async with await psycopg.AsyncConnection.connect(migrated_dsn) as conn:
        with pytest.raises(psycopg.Error, match="append-only"):
            await conn.execute("DELETE FROM corrections WHERE asset_id = %s", (asset_id,))


@pytest.mark.parametrize(
    ("kwargs", "kind"),
    [
        ({"expected_tags_version": 2}, "stale"),
        ({"shot_index": 7}, "not_found"),
        ({"field": "mood"}, "not_found"),
        ({"reviewer": ""}, "invalid"),
        ({"field": "shot_type; DROP TABLE assets"}, "invalid"),
    ],
)
async def test_bad_corrections_are_refused_and_change_nothing(
    catalog: Catalog, kwargs: dict, kind: str
) -> None:
    asset_id = await _tagged_asset(catalog)
    request = {"shot_index": 0, "field": "shot_type", "new_value": _value("wide"), "reviewer": "ana",
               "expected_tags_version": 1, **kwargs}  # fmt: skip
    with pytest.raises(CorrectionRefused) as caught:
        await catalog.correct_value(asset_id, **request)
    assert caught.value.kind == kind
    record = await catalog.get_asset(asset_id)
    assert record.state.sections["shots"][0]["values"]["shot_type"]["value"] == "medium"
