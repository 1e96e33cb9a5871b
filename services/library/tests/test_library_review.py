"""Review queue, accept/reject verdicts and the audit trail against the real Postgres fixture."""

from __future__ import annotations

import hashlib

import psycopg
import pytest
import pytest_asyncio
from rushes_library.catalog import AssetNotFound, Catalog, InvalidRequest
from rushes_library.corrections import CorrectionRefused
from rushes_library.database import Database
from rushes_library.review_desk import ReviewDesk
from rushes_library.search import SearchEngine
from search_test_data import ShotSpec, add_asset, tagged

pytestmark = pytest.mark.integration

SHOTS = [
    ShotSpec(0.0, 4.0, {"shot_type": ("close_up", 0.9), "exposure": ({"verdict": "over"}, 0.3)}, review={"exposure"}),
    ShotSpec(4.0, 9.0, {"shot_type": ("wide", 0.2), "category": ("b_roll", 0.45)}, review={"shot_type", "category"}),
]  # fmt: skip


@pytest_asyncio.fixture
async def asset(database: Database, request: pytest.FixtureRequest) -> str:
    """A fresh asset per test (ids differ by test name), in project "review"."""
    asset_id = hashlib.sha256(request.node.name.encode()).hexdigest()[:32]
    await add_asset(Catalog(database, pipeline_stages=["ingest"]), asset_id, project="review", shots=SHOTS)
    return asset_id


@pytest.fixture
def desk(database: Database) -> ReviewDesk:
    return ReviewDesk(database)


async def test_queue_lists_values_below_threshold_lowest_confidence_first(
    desk: ReviewDesk, asset: str
) -> None:
    items = await desk.list_items(asset_ref=asset)
    assert [(i["item_id"], i["confidence"]) for i in items] == [
        ("shots/1/values/shot_type", 0.2),
        ("shots/0/values/exposure", 0.3),
        ("shots/1/values/category", 0.45),
    ]
    first = items[0]
    assert first["model"] == "shot_type-heuristic" and first["model_version"] == "1.2.0"
    assert first["keyframe"].endswith("/0001.jpg") and (first["start_s"], first["end_s"]) == (4.0, 9.0)
    assert first["value"] == "wide" and first["kind"] == "ai_value"
    assert await desk.list_items(asset_ref=asset, kind="qc") == []
    assert len(await desk.list_items(project="review", asset_ref=asset, limit=1)) == 1


async def test_accept_removes_the_item_and_records_who_when_and_what(
    desk: ReviewDesk, database: Database, asset: str
) -> None:
    item = (await desk.list_items(asset_ref=asset))[0]
    record = await desk.decide(
        asset, item_id=item["item_id"], verdict="accepted", expected_revision=item["revision"], reviewer="ana"
    )
    assert record.item.value == "wide"
    remaining = [i["item_id"] for i in await desk.list_items(asset_ref=asset)]
    assert item["item_id"] not in remaining and len(remaining) == 2
    async with database.connection() as conn:
        row = await (
            await conn.execute("SELECT * FROM review_verdicts WHERE verdict_id = %s", (record.verdict_id,))
        ).fetchone()
        audit = await (
            await conn.execute("SELECT * FROM audit_log WHERE event_id = %s", (record.verdict_id,))
        ).fetchone()
        asset_row = await (
            await conn.execute("SELECT sections FROM assets WHERE asset_id = %s", (asset,))
        ).fetchone()
    assert row is not None and row["reviewer"] == "ana" and row["verdict"] == "accepted"
    assert row["old_value"] == "wide" and row["new_value"] == "wide" and row["decided_at"] is not None
    assert (
        audit is not None
        and audit["principal"] == "ana"
        and audit["event_type"] == "rushes.v1.asset.reviewed"
    )
    assert asset_row is not None
    decided = asset_row["sections"]["shots"][1]["values"]["shot_type"]
    assert decided["needs_review"] is False and "human_accepted" in decided["reasons"]


async def test_stale_or_repeated_verdicts_are_refused_and_change_nothing(
    desk: ReviewDesk, database: Database, asset: str
) -> None:
    item = (await desk.list_items(asset_ref=asset))[0]
    with pytest.raises(CorrectionRefused) as stale:
        await desk.decide(
            asset, item_id=item["item_id"], verdict="rejected", expected_revision="0" * 16, reviewer="ana"
        )
    assert stale.value.kind == "stale" and "changed since you looked" in str(stale.value)
    # A retag changes the value under the reviewer: the old revision no longer applies.
    catalog = Catalog(database, pipeline_stages=["ingest"])
    retag = [
        ShotSpec(0.0, 4.0, SHOTS[0].values, SHOTS[0].review),
        ShotSpec(4.0, 9.0, {"shot_type": ("medium", 0.25)}, {"shot_type"}),
    ]
    await catalog.record_event("rushes.v1.asset.tagged", tagged(asset, retag, project="review", version=2))
    with pytest.raises(CorrectionRefused) as changed:
        await desk.decide(
            asset,
            item_id=item["item_id"],
            verdict="accepted",
            expected_revision=item["revision"],
            reviewer="ana",
        )
    assert changed.value.kind == "stale"
    fresh = next(i for i in await desk.list_items(asset_ref=asset) if i["item_id"] == item["item_id"])
    await desk.decide(
        asset,
        item_id=fresh["item_id"],
        verdict="accepted",
        expected_revision=fresh["revision"],
        reviewer="ana",
    )
    with pytest.raises(CorrectionRefused) as twice:
        await desk.decide(
            asset,
            item_id=fresh["item_id"],
            verdict="accepted",
            expected_revision=fresh["revision"],
            reviewer="ana",
        )
    assert twice.value.kind == "not_found"
    async with database.connection() as conn:
        count = await (
            await conn.execute("SELECT count(*) AS n FROM review_verdicts WHERE asset_id = %s", (asset,))
        ).fetchone()
    assert count is not None and count["n"] == 1


@pytest.mark.parametrize(
    ("changes", "kind", "fragment"),
    [
        ({"verdict": "maybe"}, "invalid", "verdict"),
        ({"reviewer": ""}, "invalid", "reviewer"),
        ({"reviewer": "x\x00y"}, "invalid", "reviewer"),
        ({"note": "n" * 3000}, "invalid", "note"),
        ({"item_id": "shots/9/values/shot_type"}, "not_found", "no open review item"),
    ],
)
async def test_bad_verdicts_are_refused(
    desk: ReviewDesk, asset: str, changes: dict[str, str], kind: str, fragment: str
) -> None:
    item = (await desk.list_items(asset_ref=asset))[0]
    arguments = {"item_id": item["item_id"], "verdict": "accepted", "expected_revision": item["revision"],
                 "reviewer": "ana", "note": ""} | changes  # fmt: skip
    with pytest.raises(CorrectionRefused) as refused:
        await desk.decide(asset, **arguments)
    assert refused.value.kind == kind and fragment in str(refused.value)
    assert len(await desk.list_items(asset_ref=asset)) == 3


async def test_unknown_assets_are_not_found(desk: ReviewDesk) -> None:
    with pytest.raises(AssetNotFound):
        await desk.audit_trail("f" * 32)
    with pytest.raises(InvalidRequest):
        await desk.list_items(asset_ref="abc")
    with pytest.raises(InvalidRequest, match="limit"):
        await desk.list_items(limit=5000)


async def test_a_rejected_value_stops_being_a_search_label(
    desk: ReviewDesk, database: Database, asset: str
) -> None:
    engine = SearchEngine(database)
    assert (asset, 0) in [(h.asset_id, h.shot_index) for h in (await engine.search("exposure:over")).hits]
    item = next(
        i for i in await desk.list_items(asset_ref=asset) if i["item_id"] == "shots/0/values/exposure"
    )
    await desk.decide(
        asset, item_id=item["item_id"], verdict="rejected", expected_revision=item["revision"], reviewer="bo"
    )
    assert (asset, 0) not in [(h.asset_id, h.shot_index) for h in (await engine.search("exposure:over")).hits]


async def test_verdicts_cannot_be_updated_or_deleted(
    desk: ReviewDesk, database: Database, asset: str
) -> None:
    item = (await desk.list_items(asset_ref=asset))[0]
    await desk.decide(
        asset, item_id=item["item_id"], verdict="rejected", expected_revision=item["revision"], reviewer="bo"
    )
    for statement in (
        "UPDATE review_verdicts SET reviewer = 'mallory'",
        "DELETE FROM review_verdicts",
        "TRUNCATE review_verdicts",
    ):
        async with database.connection() as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                await conn.execute(statement)
            await conn.rollback()


async def test_audit_trail_lists_every_event_and_decision_with_model_and_version(
    desk: ReviewDesk, asset: str
) -> None:
    item = (await desk.list_items(asset_ref=asset))[0]
    await desk.decide(
        asset, item_id=item["item_id"], verdict="accepted", expected_revision=item["revision"], reviewer="ana"
    )
    trail = await desk.audit_trail(asset[:12])
    assert trail.asset_id == asset
    types = [entry.record.event_type for entry, _ in trail.entries]
    assert types == ["rushes.v1.asset.ingested", "rushes.v1.asset.tagged", "rushes.v1.asset.reviewed"]
    _, decisions = trail.entries[1]
    assert len(decisions) == 4  # two values on each of two shots
    exposure = next(d for d in decisions if d.field == "exposure")
    assert (exposure.stage, exposure.shot_index, exposure.model, exposure.model_version) == (
        "tagging",
        0,
        "exposure-heuristic",
        "1.2.0",
    )
    assert exposure.confidence == 0.3 and exposure.reasons == ["rule:exposure"]
    assert exposure.parameters["preset"] == "documentary" and exposure.parameters["tags_version"] == 1
    assert exposure.input_sha256 == "ab" * 32
    review_entry, review_decisions = trail.entries[2]
    assert review_entry.record.principal == "ana" and review_decisions == []


async def test_the_asset_record_lists_its_open_review_items(database: Database, asset: str) -> None:
    from rushes_library.asset_proto import asset_to_proto

    record = await Catalog(database, pipeline_stages=["ingest"]).get_asset(asset)
    review = [dict(item) for item in asset_to_proto(record).sections["review"]]
    assert [item["item_id"] for item in review] == [
        "shots/0/values/exposure",
        "shots/1/values/category",
        "shots/1/values/shot_type",
    ]
    assert review[0]["revision"] and review[0]["model"] == "exposure-heuristic"
