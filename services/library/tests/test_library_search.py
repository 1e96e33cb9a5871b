"""Search against the real Postgres (pgvector) fixture: boolean filters, phrases, ranges, keyword
ranking, facets, autocomplete, and hostile queries that must change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio
from rushes_library import search as search_module
from rushes_library.catalog import Catalog, InvalidRequest
from rushes_library.database import Database
from rushes_library.query_parser import QueryError
from rushes_library.search import SearchEngine
from search_test_data import ShotSpec, add_asset

pytestmark = pytest.mark.integration

INTERVIEW = "1" * 32
HARBOUR = "2" * 32
AUDIO_ONLY = "3" * 32


@pytest_asyncio.fixture(scope="module")
async def engine(database: Database) -> SearchEngine:
    catalog = Catalog(database, pipeline_stages=["ingest"])
    await add_asset(
        catalog,
        INTERVIEW,
        project="doc",
        filename="S12_T03_interview.mov",
        shots=[
            ShotSpec(0.0, 4.0, {"shot_type": ("close_up", 0.9), "category": ("interview", 0.8),
                                "exposure": ({"verdict": "ok", "mean_luma": 0.4}, 0.9)}),
            ShotSpec(4.0, 10.0, {"shot_type": ("wide", 0.7), "category": ("b_roll", 0.6),
                                 "exposure": ({"verdict": "over", "mean_luma": 0.9}, 0.4)}, review={"exposure"}),
        ],
        words=[("ask", 1.0), ("not", 1.4), ("what", 1.8), ("your", 2.1), ("country", 2.5), ("sunrise", 6.0)],
    )  # fmt: skip
    await add_asset(
        catalog,
        HARBOUR,
        project="doc",
        filename="S14_T1.mov",
        shots=[
            ShotSpec(0.0, 8.0, {"shot_type": ("wide", 0.8), "category": ("b_roll", 0.9),
                                "shakiness": ({"verdict": "shaky", "jitter_pct": 2.0}, 0.7),
                                "mood": ({"moods": ["dark", "calm"], "temperature": "cool"}, 0.5),
                                "white_balance": ({"kelvin": 7800, "tint": 0.0}, 0.6)}),
        ],
        words=[("boats", 1.0), ("in", 1.5), ("the", 1.7), ("harbour", 2.0), ("at", 2.4), ("dusk", 2.8)],
    )  # fmt: skip
    await add_asset(catalog, AUDIO_ONLY, project="other", shots=[], words=[("hello", 0.5), ("there", 1.0)])
    return SearchEngine(database)


def ids(result) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    return [(hit.asset_id, hit.shot_index) for hit in result.hits]


async def test_boolean_query_finds_the_one_matching_shot(engine: SearchEngine) -> None:
    result = await engine.search("shot_type:close_up AND category:interview AND NOT exposure:over")
    assert ids(result) == [(INTERVIEW, 0)]
    hit = result.hits[0]
    assert (hit.start_s, hit.end_s) == (0.0, 4.0)
    assert "shot_type:close_up" in hit.highlights and "category:interview" in hit.highlights
    assert hit.keyframe == f"assets/{INTERVIEW}/keyframes/0000.jpg"
    assert set(hit.to_json()) >= {"asset_id", "shot_index", "start_s", "end_s", "score", "highlights"}
    assert result.kind == "boolean"


async def test_or_and_parentheses_follow_precedence(engine: SearchEngine) -> None:
    both = await engine.search("(shot_type:close_up OR shakiness:shaky) AND category:b_roll")
    assert ids(both) == [(HARBOUR, 0)]
    loose = await engine.search("shot_type:close_up OR shakiness:shaky AND category:b_roll")
    assert sorted(ids(loose)) == sorted([(INTERVIEW, 0), (HARBOUR, 0)])


async def test_quoted_phrase_matches_words_in_order_within_the_shot(engine: SearchEngine) -> None:
    result = await engine.search('"ask not"')
    assert ids(result) == [(INTERVIEW, 0)]
    assert any("«ask not»" in h for h in result.hits[0].highlights)
    assert (await engine.search('"not ask"')).hits == []
    # The word is spoken in shot 1 of the interview, not in shot 0.
    assert ids(await engine.search('transcript:"sunrise"')) == [(INTERVIEW, 1)]


async def test_ranges_durations_dates_and_confidence_thresholds(engine: SearchEngine) -> None:
    assert sorted(ids(await engine.search("duration>5s AND category:b_roll"))) == sorted(
        [(INTERVIEW, 1), (HARBOUR, 0)]
    )
    assert ids(await engine.search("duration:0..4.5s")) == [(INTERVIEW, 0)]
    assert ids(await engine.search("exposure.confidence<0.5")) == [(INTERVIEW, 1)]
    assert ids(await engine.search("kelvin>7500")) == [(HARBOUR, 0)]
    today = datetime.now(UTC).date().isoformat()
    assert len((await engine.search(f"date:{today}..{today}")).hits) == 4
    assert (await engine.search("date:2000-01-01..2000-12-31")).hits == []


async def test_structural_fields_and_asset_level_rows(engine: SearchEngine) -> None:
    assert sorted(ids(await engine.search("scene:12"))) == [(INTERVIEW, 0), (INTERVIEW, 1)]
    assert ids(await engine.search("scene:14 take:1")) == [(HARBOUR, 0)]
    assert ids(await engine.search("camera:'ARRI ALEXA 35' project:other".replace("'", '"'))) == [
        (AUDIO_ONLY, None)
    ]
    assert ids(await engine.search("review:yes")) == [(INTERVIEW, 1)]
    scoped = await engine.search("codec:h264", project="other")
    assert ids(scoped) == [(AUDIO_ONLY, None)]


async def test_taxonomy_synonyms_and_ancestors(engine: SearchEngine) -> None:
    assert ids(await engine.search("shot_type:closeup")) == [(INTERVIEW, 0)]
    assert ids(await engine.search("tag:handheld")) == [(HARBOUR, 0)]
    framing = await engine.search("tag:framing")
    assert len(framing.hits) == 3
    assert ids(await engine.search("mood:gloomy")) == [(HARBOUR, 0)]


async def test_loose_words_rank_by_keywords_without_an_embedder(engine: SearchEngine) -> None:
    result = await engine.search("a wide shot of the harbour at dusk")
    assert result.kind == "keyword"
    assert result.hits[0].asset_id == HARBOUR
    assert result.hits[0].score > 0
    assert any("«harbour»" in h for h in result.hits[0].highlights)
    strict = await engine.search("harbour dusk", mode="boolean")
    assert ids(strict) == [(HARBOUR, 0)]


async def test_facets_count_values_among_the_filtered_shots(engine: SearchEngine) -> None:
    result = await engine.search("category:b_roll", facets=True)
    assert result.facets["shot_type"] == {"wide": 2}
    assert result.facets["category"] == {"b_roll": 2}
    assert result.facets["exposure"] == {"over": 1}


async def test_facets_past_the_sample_size_are_a_stated_sample(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = await engine.search("category:b_roll", facets=True)
    assert exact.facets_sample == 0
    monkeypatch.setattr(search_module, "FACET_SAMPLE", 1)
    sampled = await engine.search("category:b_roll", facets=True)
    # LIMIT FACET_SAMPLE + 1 rows are read: 2 here, and the result says so.
    assert sampled.facets_sample == 2 and sampled.facets["category"] == {"b_roll": 2}
    monkeypatch.setattr(search_module, "FACET_SAMPLE", 0)
    tiny = await engine.search("category:b_roll", facets=True)
    assert tiny.facets_sample == 1 and sum(tiny.facets["category"].values()) == 1


async def test_autocomplete_fields_values_and_tags(engine: SearchEngine) -> None:
    assert "shot_type:" in await engine.autocomplete("sho")
    assert await engine.autocomplete("shot_type:cl") == ["shot_type:close_up"]
    assert "tag:shaky" in await engine.autocomplete("tag:hand")
    assert await engine.autocomplete("scene:1") == ["scene:12", "scene:14"]
    with pytest.raises(QueryError):
        await engine.autocomplete("nosuchfield:x")


@pytest.mark.parametrize(
    ("query", "fragment", "position"),
    [
        ("nosuchfield:1", "unknown field 'nosuchfield'", 0),
        ("shot_type:closeupp", "not a known value", 10),
        ("(shot_type:wide", "missing ')'", 0),
        ("duration>fast", "not a duration", 9),
        ("date:2026-02-30", "not a date", 5),
        ("duration:9s..2s", "ends before it starts", 9),
        ("shot_type.confidence>1.5", "between 0 and 1", 21),
        ("tag:spaceship", "not in the taxonomy", 4),
    ],
)
async def test_bad_queries_are_refused_with_a_position(
    engine: SearchEngine, query: str, fragment: str, position: int
) -> None:
    with pytest.raises(QueryError) as caught:
        await engine.search(query)
    assert fragment in caught.value.message
    assert caught.value.position == position


@pytest.mark.parametrize(
    "hostile",
    [
        'project:"doc\'; DROP TABLE assets; --"',
        "scene:1' OR '1'='1",
        '"\'); DELETE FROM search_shots; --"',
        "filename:%",
        "asset:_",
        "harbour'); DROP TABLE search_shots; --",
    ],
)
async def test_injection_attempts_change_nothing(
    engine: SearchEngine, database: Database, hostile: str
) -> None:
    async with database.connection() as conn:
        before = await (await conn.execute("SELECT count(*) AS n FROM search_shots")).fetchone()
    try:
        result = await engine.search(hostile)
        assert result.hits == [] or all(
            hit.asset_id in {INTERVIEW, HARBOUR, AUDIO_ONLY} for hit in result.hits
        )
        if hostile.startswith(("project:", "scene:", "filename:", "asset:")):
            assert result.hits == []
    except QueryError:
        pass
    async with database.connection() as conn:
        after = await (await conn.execute("SELECT count(*) AS n FROM search_shots")).fetchone()
        assets = await (await conn.execute("SELECT count(*) AS n FROM assets")).fetchone()
    assert after == before and before is not None and before["n"] >= 4
    assert assets is not None and assets["n"] >= 3


async def test_bad_options_are_refused(engine: SearchEngine) -> None:
    with pytest.raises(InvalidRequest, match="limit"):
        await engine.search("scene:12", limit=100_000)
    with pytest.raises(InvalidRequest, match="mode"):
        await engine.search("scene:12", mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="empty"):
        await engine.search("   ")


async def test_hostile_tag_values_from_events_are_stored_and_matched_as_data(
    engine: SearchEngine, database: Database
) -> None:
    hostile = "x'); DROP TABLE search_shots; --"
    catalog = Catalog(database, pipeline_stages=["ingest"])
    asset_id = "4" * 32
    await add_asset(
        catalog, asset_id, project="hostile", shots=[ShotSpec(0.0, 2.0, {"category": (hostile, 0.9)})]
    )
    result = await engine.search("codec:h264", project="hostile")
    assert [(h.asset_id, h.shot_index) for h in result.hits] == [(asset_id, 0)]
    async with database.connection() as conn:
        row = await (
            await conn.execute("SELECT labels FROM search_shots WHERE asset_id = %s", (asset_id,))
        ).fetchone()
    assert row is not None and f"category:{hostile}" in row["labels"]
    # Not a taxonomy value, so the query language refuses it rather than guessing.
    with pytest.raises(QueryError, match="not a known value"):
        await engine.search('category:"x\'); DROP TABLE search_shots; --"')
