"""Editing the descriptive/administrative tiers and suggesting tags, against the real Postgres fixture."""

from __future__ import annotations

import hashlib

import pytest
import pytest_asyncio
from google.protobuf import json_format
from rushes_library.asset_proto import asset_to_proto
from rushes_library.catalog import AssetNotFound, Catalog, InvalidRequest
from rushes_library.corrections import CorrectionRefused
from rushes_library.database import Database
from rushes_library.metadata_desk import METADATA_UPDATED, MetadataDesk
from rushes_library.metadata_edit import MetadataEdit, MetadataError, validate
from rushes_library.search import SearchEngine
from rushes_library.tag_suggestions import TagSuggester
from rushes_library.taxonomy import load_taxonomy
from search_test_data import ShotSpec, add_asset

pytestmark = pytest.mark.integration

SHOTS = [
    ShotSpec(0.0, 4.0, {"shot_type": ("close_up", 0.9), "category": ("interview", 0.6)}),
    ShotSpec(4.0, 9.0, {"shot_type": ("wide", 0.5)}),
]


@pytest_asyncio.fixture
async def asset(database: Database, request: pytest.FixtureRequest) -> str:
    """A fresh asset per test, in a project of its own (so neighbours come only from this test)."""
    asset_id = hashlib.sha256(request.node.name.encode()).hexdigest()[:32]
    await add_asset(
        Catalog(database, pipeline_stages=["ingest"]), asset_id, project=f"meta-{asset_id[:6]}", shots=SHOTS
    )
    return asset_id


@pytest.fixture
def desk(database: Database) -> MetadataDesk:
    return MetadataDesk(database)


async def _version(desk: MetadataDesk, asset_id: str) -> int:
    return (await desk.get(asset_id)).record_version


# --- validation (pure) -------------------------------------------------------------------------------


def test_validation_normalises_and_names_the_bad_field() -> None:
    taxonomy = load_taxonomy()
    wanted = validate(
        MetadataEdit(title="  Harbour  ", tags=["Close-Up", "handheld", "cu"], access="Public"), taxonomy
    )
    assert wanted == {
        "descriptive": {"title": "Harbour", "tags": ["close_up", "shaky"]},
        "administrative": {"access": "public"},
    }
    for edit, message in (
        (MetadataEdit(tags=["close_up", "sunset_glow"]), "tag 'sunset_glow' is not in the taxonomy"),
        (MetadataEdit(access="everyone"), "access 'everyone' is not one of public, project"),
        (MetadataEdit(title="x" * 201), "title is too long (201 characters, at most 200)"),
        (MetadataEdit(licence="CC\x00BY"), "licence contains a control character"),
        (MetadataEdit(), "nothing to change"),
        (MetadataEdit(tags=[""]), "tag '' is not in the taxonomy"),
    ):
        with pytest.raises(MetadataError, match=message.replace("(", r"\(").replace(")", r"\)")):
            validate(edit, taxonomy)


# --- editing -----------------------------------------------------------------------------------------


async def test_edit_is_stored_versioned_audited_and_shown_in_the_record(
    desk: MetadataDesk, database: Database, asset: str
) -> None:
    version = await _version(desk, asset)
    update = await desk.update(
        asset,
        MetadataEdit(title="Harbour at dusk", tags=["handheld"], rights="(c) Rushes", licence="CC-BY-4.0"),
        expected_record_version=version,
        editor="ana",
        note="from the shoot notes",
    )
    assert [c.field for c in update.changes] == [
        "descriptive.title", "descriptive.tags", "administrative.rights", "administrative.licence",
    ]  # fmt: skip
    assert update.changes[1].old is None and update.changes[1].new == ["shaky"]
    assert update.metadata.record_version == version + 1
    assert update.metadata.descriptive == {"title": "Harbour at dusk", "tags": ["shaky"]}
    async with database.connection() as conn:
        audit = await (
            await conn.execute("SELECT * FROM audit_log WHERE event_id = %s", (update.change_id,))
        ).fetchone()
        view = await (
            await conn.execute("SELECT title, tags FROM asset_descriptive WHERE asset_id = %s", (asset,))
        ).fetchone()
        admin = await (
            await conn.execute(
                "SELECT licence, access, record_version FROM asset_administrative WHERE asset_id = %s",
                (asset,),
            )
        ).fetchone()
    assert audit is not None and audit["event_type"] == METADATA_UPDATED and audit["principal"] == "ana"
    assert audit["data"]["changes"][0] == {
        "field": "descriptive.title",
        "old": None,
        "new": "Harbour at dusk",
    }
    assert audit["data"]["note"] == "from the shoot notes" and audit["data"]["record_version"] == version + 1
    assert view == {"title": "Harbour at dusk", "tags": ["shaky"]}
    assert admin == {"licence": "CC-BY-4.0", "access": "project", "record_version": version + 1}
    record = json_format.MessageToDict(
        asset_to_proto(await Catalog(database, pipeline_stages=["ingest"]).get_asset(asset)),
        preserving_proto_field_name=True,
    )
    assert record["sections"]["descriptive"] == {"title": "Harbour at dusk", "tags": ["shaky"]}
    assert record["sections"]["administrative"] == {"rights": "(c) Rushes", "licence": "CC-BY-4.0"}
    assert record["sections"]["record_version"] == version + 1
    assert record["sections"]["structural"] == {}  # A001_C002.mov names no scene or take


async def test_principal_wins_over_the_editor_name_and_clearing_removes_the_field(
    desk: MetadataDesk, asset: str
) -> None:
    first = await desk.update(
        asset, MetadataEdit(title="T", tags=["wide"]), expected_record_version=await _version(desk, asset),
        editor="claimed", principal="alice@example",
    )  # fmt: skip
    second = await desk.update(
        asset, MetadataEdit(title="", tags=[]), expected_record_version=first.metadata.record_version,
        editor="bob",
    )  # fmt: skip
    assert [(c.field, c.old, c.new) for c in second.changes] == [
        ("descriptive.title", "T", ""), ("descriptive.tags", ["wide"], []),
    ]  # fmt: skip
    assert second.metadata.descriptive == {}
    trail = await desk_audit(desk, asset)
    assert [(p, e) for p, e in trail] == [("alice@example", "claimed"), ("bob", "bob")]


async def desk_audit(desk: MetadataDesk, asset: str) -> list[tuple[str, str]]:
    async with desk._db.connection() as conn:  # the test reads the log directly
        cursor = await conn.execute(
            "SELECT principal, data ->> 'editor' AS editor FROM audit_log"
            " WHERE asset_id = %s AND event_type = %s ORDER BY seq",
            (asset, METADATA_UPDATED),
        )
        return [(row["principal"], row["editor"]) for row in await cursor.fetchall()]


async def test_stale_version_is_refused_and_changes_nothing(desk: MetadataDesk, asset: str) -> None:
    version = await _version(desk, asset)
    await desk.update(asset, MetadataEdit(title="first"), expected_record_version=version, editor="ana")
    with pytest.raises(CorrectionRefused, match="changed since you read it") as refused:
        await desk.update(asset, MetadataEdit(title="second"), expected_record_version=version, editor="bob")
    assert refused.value.kind == "stale"
    stored = await desk.get(asset)
    assert stored.descriptive["title"] == "first" and stored.record_version == version + 1


async def test_an_edit_that_repeats_the_stored_values_changes_nothing(desk: MetadataDesk, asset: str) -> None:
    version = await _version(desk, asset)
    await desk.update(asset, MetadataEdit(access="public"), expected_record_version=version, editor="ana")
    again = await desk.update(
        asset,
        MetadataEdit(access="PUBLIC", description=""),
        expected_record_version=version + 1,
        editor="ana",
    )
    assert again.changes == [] and again.change_id == "" and again.metadata.record_version == version + 1


async def test_bad_requests_name_what_was_wrong(desk: MetadataDesk, asset: str) -> None:
    version = await _version(desk, asset)
    with pytest.raises(InvalidRequest, match="tag 'nosuchtag' is not in the taxonomy"):
        await desk.update(
            asset, MetadataEdit(tags=["nosuchtag"]), expected_record_version=version, editor="a"
        )
    with pytest.raises(InvalidRequest, match="access 'world'"):
        await desk.update(asset, MetadataEdit(access="world"), expected_record_version=version, editor="a")
    with pytest.raises(InvalidRequest, match="expected_record_version is required"):
        await desk.update(asset, MetadataEdit(title="x"), expected_record_version=0, editor="a")
    with pytest.raises(InvalidRequest, match="editor is required"):
        await desk.update(asset, MetadataEdit(title="x"), expected_record_version=version, editor=" ")
    with pytest.raises(AssetNotFound):
        await desk.update("f" * 32, MetadataEdit(title="x"), expected_record_version=1, editor="a")
    assert await _version(desk, asset) == version  # none of these wrote anything


async def test_edited_tags_and_title_are_searchable_and_survive_a_retag(
    desk: MetadataDesk, database: Database, asset: str
) -> None:
    engine = SearchEngine(database)
    project = f"meta-{asset[:6]}"
    assert (await engine.search("tag:shaky", project=project)).hits == []
    await desk.update(
        asset, MetadataEdit(title="Lighthouse keeper", tags=["handheld"]),
        expected_record_version=await _version(desk, asset), editor="ana",
    )  # fmt: skip
    by_tag = await engine.search("tag:shaky", project=project)
    by_ancestor = await engine.search("tag:camera_motion", project=project)
    by_title = await engine.search("lighthouse", project=project, mode="boolean")
    assert {(h.asset_id, h.shot_index) for h in by_tag.hits} == {(asset, 0), (asset, 1)}
    assert len(by_ancestor.hits) == 2 and len(by_title.hits) == 2
    # A later event rebuilds the rows from the record: the edited tags stay.
    await add_asset(Catalog(database, pipeline_stages=["ingest"]), asset, project=project, shots=SHOTS[:1])
    assert [(h.asset_id, h.shot_index) for h in (await engine.search("tag:shaky", project=project)).hits] == [
        (asset, 0)
    ]


# --- tag suggestions ---------------------------------------------------------------------------------


def _vector(*head: float) -> str:
    values = [*head, *([0.0] * (256 - len(head)))]
    return "[" + ",".join(str(v) for v in values) + "]"


async def _embed(database: Database, asset_id: str, shot_index: int, vector: str) -> None:
    async with database.connection() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO search_vectors (asset_id, shot_index, embedding) VALUES (%s, %s, %s::vector)"
            " ON CONFLICT (asset_id, shot_index) DO UPDATE SET embedding = EXCLUDED.embedding",
            (asset_id, shot_index, vector),
        )


async def test_suggestions_from_own_values_ancestors_skip_what_is_applied(
    desk: MetadataDesk, database: Database, asset: str
) -> None:
    suggester = TagSuggester(database)
    result = await suggester.suggest(asset, 0, limit=50)
    by_tag = {s.tag: s for s in result.suggestions}
    assert not result.used_neighbours
    assert by_tag["close_up"].score == pytest.approx(0.9)
    assert by_tag["framing"].score == pytest.approx(0.9 * 0.8)
    assert by_tag["technique"].score == pytest.approx(0.9 * 0.8 * 0.8)
    assert by_tag["interview"].score == pytest.approx(0.6)
    assert by_tag["framing"].reasons == ["ancestor of close_up: shot_type is close_up (confidence 0.90)"]
    assert [s.score for s in result.suggestions] == sorted(
        (s.score for s in result.suggestions), reverse=True
    )
    await desk.update(
        asset,
        MetadataEdit(tags=["close_up"]),
        expected_record_version=await _version(desk, asset),
        editor="a",
    )
    after = {s.tag for s in (await suggester.suggest(asset, 0, limit=50)).suggestions}
    assert not after & {"close_up", "framing", "technique"}  # applied, or implied by what is applied
    assert "interview" in after


async def test_suggestions_from_nearest_neighbours_with_similarity(database: Database, asset: str) -> None:
    catalog = Catalog(database, pipeline_stages=["ingest"])
    project = f"meta-{asset[:6]}"
    near, far, elsewhere = (hashlib.sha256(f"{asset}{n}".encode()).hexdigest()[:32] for n in "abc")
    shaky = [ShotSpec(0.0, 3.0, {"shakiness": ({"verdict": "shaky"}, 0.8), "category": ("b_roll", 0.9)})]
    await add_asset(catalog, near, project=project, shots=shaky)
    await add_asset(catalog, far, project=project, shots=[ShotSpec(0.0, 3.0, {"category": ("graphic", 0.9)})])
    await add_asset(catalog, elsewhere, project="another-project", shots=shaky)
    await _embed(database, asset, 0, _vector(1.0, 0.0))
    await _embed(database, near, 0, _vector(1.0, 0.1))
    await _embed(database, far, 0, _vector(0.0, 1.0))
    await _embed(database, elsewhere, 0, _vector(1.0, 0.0))
    result = await TagSuggester(database).suggest(asset, 0, limit=50, neighbours=2)
    by_tag = {s.tag: s for s in result.suggestions}
    assert result.used_neighbours
    assert by_tag["shaky"].sources == ["neighbours"]
    assert by_tag["shaky"].score == pytest.approx(0.995 / 2, abs=0.01)  # one of two neighbours, cos ~0.995
    assert by_tag["shaky"].reasons[0].startswith(f"on 1 of 2 similar shots (closest: {near[:12]} shot 0")
    assert by_tag["graphic"].score == pytest.approx(0.0, abs=0.01)  # orthogonal: similarity 0
    assert by_tag["shaky"].score > by_tag["graphic"].score
    # close_up is the shot's own value; b_roll came only from the neighbour
    assert by_tag["close_up"].sources == ["ancestor"] and by_tag["b_roll"].sources == ["neighbours"]


async def test_suggestions_refuse_unknown_assets_shots_and_bad_limits(database: Database, asset: str) -> None:
    suggester = TagSuggester(database)
    with pytest.raises(LookupError, match="has no shot 7"):
        await suggester.suggest(asset, 7)
    with pytest.raises(LookupError, match="no asset has id or prefix"):
        await suggester.suggest("e" * 32, 0)
    with pytest.raises(InvalidRequest, match="limit 51 is out of range"):
        await suggester.suggest(asset, 0, limit=51)
    with pytest.raises(InvalidRequest, match="shot index -2 is negative"):
        await suggester.suggest(asset, -2)
