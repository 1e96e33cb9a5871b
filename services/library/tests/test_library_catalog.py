"""The catalog against a real Postgres (fresh database per module): recording events, reading records."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import psycopg
import pytest
import rushes_library
from google.protobuf.json_format import MessageToDict
from library_test_events import at, dead_letter, ingested, rejected, stage_failed, stage_started
from rushes_library.asset_proto import asset_to_proto
from rushes_library.catalog import AssetNotFound, Catalog, InvalidRequest
from rushes_library.database import Database
from rushes_library.migrate import MigrationError, apply_migrations
from rushes_library.projection import InvalidEvent

pytestmark = pytest.mark.integration

# Every migration shipped in the package, in order ("0001", "0002", ...).
MIGRATION_VERSIONS = sorted(
    p.name.split("_")[0] for p in (Path(rushes_library.__file__).parent / "migrations").glob("*.sql")
)


def _new_id() -> str:
    return uuid.uuid4().hex


def _audit_count(dsn: str, asset_id: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM audit_log WHERE asset_id = %s", (asset_id,)).fetchone()
    assert row is not None
    return int(row[0])


async def test_ingested_becomes_a_get_asset_shaped_record(catalog: Catalog) -> None:
    asset_id = _new_id()
    event = ingested(asset_id=asset_id, project="feature")
    assert await catalog.record_event("rushes.v1.asset.ingested", event) is True

    record = await catalog.get_asset(asset_id, include_audit=True)
    asset = MessageToDict(asset_to_proto(record), preserving_proto_field_name=True)
    assert asset["asset_id"] == asset_id
    assert asset["status"] == "processing"  # the pipeline also has "tagging"
    assert asset["project"] == "feature"
    assert asset["source"] == {"filename": "A001_C002.mov", "bytes": "123456", "sha256": "ab" * 32}
    assert asset["technical"]["width"] == 1920 and asset["technical"]["fps"] == 25.0
    assert asset["technical"]["camera"] == {"make": "ARRI", "model": "ALEXA 35"}
    assert asset["objects"]["proxy"] == f"assets/{asset_id}/proxy.mp4"
    assert asset["stages"] == {
        "ingest": {
            "status": "complete",
            "started_at": "2026-03-01T09:00:00Z",
            "finished_at": "2026-03-01T09:00:05Z",
            "attempts": 1,
        }
    }
    [entry] = asset["audit"]
    assert entry["event_id"] == event.envelope.id
    assert entry["event_type"] == "rushes.v1.asset.ingested"
    assert entry["producer"] == "ingest"
    assert entry["summary"].startswith("ingested A001_C002.mov")
    assert entry["data"]["objects"]["original"] == f"assets/{asset_id}/original.mov"
    assert "created_at" in asset and "updated_at" in asset


async def test_pipeline_complete_when_every_stage_is_done(catalog: Catalog) -> None:
    from library_test_events import envelope, run
    from rushes.events.v1 import events_pb2

    asset_id = _new_id()
    await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=asset_id))
    tagged = events_pb2.AssetTagged(
        envelope=envelope("rushes.v1.asset.tagged", asset_id=asset_id),
        run=run("tagging", at(6), at(8)),
        preset="documentary",
        tags_version=1,
        shots=[{"index": 0, "start_frame": 0, "end_frame": 10, "values": {"shot_type": {"confidence": 0.9}}}],
    )
    await catalog.record_event("rushes.v1.asset.tagged", tagged)
    record = await catalog.get_asset(asset_id)
    assert record.status == "complete"
    assert record.state.stages["tagging"].status == "complete"
    assert record.state.sections["tag_preset"] == "documentary"
    assert record.state.sections["shots"][0]["end_frame"] == "10"  # uint64 in proto JSON is a string
    assert record.audit == []  # include_audit defaults to False


async def test_same_event_twice_is_recorded_once(catalog: Catalog, migrated_dsn: str) -> None:
    asset_id = _new_id()
    event = ingested(asset_id=asset_id)
    assert await catalog.record_event("rushes.v1.asset.ingested", event) is True
    first = await catalog.get_asset(asset_id, include_audit=True)
    assert await catalog.record_event("rushes.v1.asset.ingested", event) is False
    second = await catalog.get_asset(asset_id, include_audit=True)
    assert second == first  # state, status, timestamps and audit all unchanged
    assert _audit_count(migrated_dsn, asset_id) == 1


async def test_rejected_asset_has_status_reason_and_no_objects(catalog: Catalog) -> None:
    asset_id = _new_id()
    await catalog.record_event(
        "rushes.v1.asset.stage_started", stage_started("ingest", started_s=0, asset_id=asset_id)
    )
    await catalog.record_event("rushes.v1.asset.rejected", rejected(asset_id=asset_id))
    record = await catalog.get_asset(asset_id, include_audit=True)
    assert record.status == "rejected"
    assert record.state.rejection_reason == "not_media: no audio or video stream found"
    assert record.state.objects == {}
    assert record.state.source["filename"] == "notes.txt"
    assert [entry.record.event_type for entry in record.audit] == [
        "rushes.v1.asset.stage_started",
        "rushes.v1.asset.rejected",
    ]
    assert asset_to_proto(record).rejection_reason == record.state.rejection_reason


async def test_stage_failure_fails_the_asset(catalog: Catalog) -> None:
    asset_id = _new_id()
    await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=asset_id))
    failure = stage_failed("tagging", finished_s=9, error="model unavailable")
    failure.envelope.asset_id = asset_id
    await catalog.record_event("rushes.v1.asset.stage_failed", failure)
    record = await catalog.get_asset(asset_id)
    assert record.status == "failed"
    assert record.state.stages["tagging"].error == "model unavailable"
    assert record.state.stages["ingest"].status == "complete"


async def test_dead_letter_fails_the_stage_and_keeps_no_payload(catalog: Catalog, migrated_dsn: str) -> None:
    asset_id = _new_id()
    await catalog.record_event("rushes.v1.dlq.tagging", dead_letter("tagging", time_s=4, asset_id=asset_id))
    record = await catalog.get_asset(asset_id, include_audit=True)
    assert record.status == "failed"
    assert record.state.stages["tagging"].error.startswith("dead-lettered after 5 deliveries")
    assert record.audit[0].record.data["original_data"] == "<100 bytes omitted>"


async def test_late_stage_started_does_not_regress(catalog: Catalog) -> None:
    asset_id = _new_id()
    await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=asset_id, finished_s=5))
    late = stage_started("ingest", started_s=0, attempt=1, asset_id=asset_id)
    assert await catalog.record_event("rushes.v1.asset.stage_started", late) is True
    record = await catalog.get_asset(asset_id, include_audit=True)
    assert record.state.stages["ingest"].status == "complete"
    assert len(record.audit) == 2  # the late event is still audited


async def test_concurrent_events_for_a_new_asset_both_apply(catalog: Catalog) -> None:
    asset_id = _new_id()
    events = [stage_started(stage, started_s=1, asset_id=asset_id) for stage in ("tagging", "asr", "grading")]
    await asyncio.gather(*(catalog.record_event("rushes.v1.asset.stage_started", e) for e in events))
    record = await catalog.get_asset(asset_id)
    assert {name: s.status for name, s in record.state.stages.items()} == {
        "tagging": "running",
        "asr": "running",
        "grading": "running",
    }


async def test_nul_characters_are_stored_replaced(catalog: Catalog) -> None:
    asset_id = _new_id()
    event = ingested(asset_id=asset_id)
    event.source.filename = "bad\x00name.mov"
    await catalog.record_event("rushes.v1.asset.ingested", event)
    record = await catalog.get_asset(asset_id)
    assert record.state.source["filename"] == "bad\ufffdname.mov"


async def test_invalid_event_writes_nothing(catalog: Catalog, migrated_dsn: str) -> None:
    asset_id = _new_id()
    event = stage_started("", started_s=1, asset_id=asset_id)
    with pytest.raises(InvalidEvent, match="stage name is empty"):
        await catalog.record_event("rushes.v1.asset.stage_started", event)
    assert _audit_count(migrated_dsn, asset_id) == 0
    with pytest.raises(AssetNotFound):
        await catalog.get_asset(asset_id)


# --- the audit log is append-only --------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET summary = 'changed'",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE false",
        "TRUNCATE audit_log",
    ],
)
async def test_audit_log_refuses_changes(catalog: Catalog, migrated_dsn: str, statement: str) -> None:
    await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=_new_id()))
    with (
        psycopg.connect(migrated_dsn) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        conn.execute(statement)  # type: ignore[arg-type]


def test_audit_log_privileges_revoked_from_public(migrated_dsn: str) -> None:
    with psycopg.connect(migrated_dsn) as conn:
        rows = conn.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants"
            " WHERE table_name = 'audit_log' AND grantee = 'PUBLIC'"
        ).fetchall()
        conn.execute("CREATE ROLE library_reader_test LOGIN")
        conn.execute("GRANT SELECT, INSERT ON audit_log TO library_reader_test")
        conn.commit()
        conn.execute("SET ROLE library_reader_test")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit_log")
    assert rows == []


# --- reading -------------------------------------------------------------------------------------------


async def test_get_asset_by_unique_prefix(catalog: Catalog) -> None:
    asset_id = _new_id()
    await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=asset_id))
    record = await catalog.get_asset(asset_id[:12])
    assert record.state.asset_id == asset_id


async def test_get_asset_errors_are_readable(catalog: Catalog) -> None:
    prefix = "feedface"
    for suffix in ("0001", "0002"):
        await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=prefix + suffix))
    with pytest.raises(
        InvalidRequest, match=r"asset prefix 'feedface' is ambiguous \(matches feedface0001, feedface0002\)"
    ):
        await catalog.get_asset(prefix)
    with pytest.raises(InvalidRequest, match="at least 8 characters"):
        await catalog.get_asset("feed")
    with pytest.raises(InvalidRequest, match="asset_id is required"):
        await catalog.get_asset("  ")
    with pytest.raises(InvalidRequest, match="too long"):
        await catalog.get_asset("f" * 300)
    with pytest.raises(InvalidRequest, match="non-printable"):
        await catalog.get_asset("feedface\x00")
    with pytest.raises(AssetNotFound, match="no asset has id or prefix '0123456789'"):
        await catalog.get_asset("0123456789")
    # LIKE wildcards in a prefix are literal characters, not patterns
    with pytest.raises(AssetNotFound):
        await catalog.get_asset("feedfac%")
    with pytest.raises(AssetNotFound):
        await catalog.get_asset("feedfac_")


async def test_list_assets_filters_and_pages(catalog: Catalog) -> None:
    project = "list-" + _new_id()[:8]
    ids = []
    for _ in range(5):
        asset_id = _new_id()
        ids.append(asset_id)
        await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=asset_id, project=project))
    failed_id = ids[1]
    failure = stage_failed("tagging", finished_s=9)
    failure.envelope.asset_id = failed_id
    await catalog.record_event("rushes.v1.asset.stage_failed", failure)

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await catalog.list_assets(project=project, page_size=2, page_token=token)
        pages += 1
        assert len(page.assets) <= 2
        seen += [a.state.asset_id for a in page.assets]
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert seen == list(reversed(ids))  # newest first, each exactly once

    failed = await catalog.list_assets(project=project, status="failed")
    assert [a.state.asset_id for a in failed.assets] == [failed_id]
    assert failed.next_page_token == ""
    processing = await catalog.list_assets(project=project, status="processing")
    assert len(processing.assets) == 4


async def test_list_assets_rejects_bad_input(catalog: Catalog) -> None:
    project = "bad-" + _new_id()[:8]
    for _ in range(2):
        await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=_new_id(), project=project))
    page = await catalog.list_assets(project=project, page_size=1)
    assert page.next_page_token
    with pytest.raises(
        InvalidRequest, match="status 'done' is not one of processing, complete, failed, rejected"
    ):
        await catalog.list_assets(status="done")
    with pytest.raises(InvalidRequest, match="different filter"):
        await catalog.list_assets(project="other", page_token=page.next_page_token)
    with pytest.raises(InvalidRequest, match="page_token is not valid"):
        await catalog.list_assets(project=project, page_token="not-a-token")


async def test_list_assets_page_size_is_bounded(catalog: Catalog) -> None:
    project = "size-" + _new_id()[:8]
    await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=_new_id(), project=project))
    page = await catalog.list_assets(project=project, page_size=100_000)
    assert len(page.assets) == 1 and page.next_page_token == ""


# --- migrations ----------------------------------------------------------------------------------------


async def test_migrations_rerun_is_a_no_op(migrated_dsn: str) -> None:
    assert await apply_migrations(migrated_dsn) == []
    with psycopg.connect(migrated_dsn) as conn:
        versions = conn.execute("SELECT version FROM schema_migrations").fetchall()
        has_vector = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert versions == [(v,) for v in MIGRATION_VERSIONS]
    assert has_vector is not None


async def test_concurrent_first_migrations_take_turns(postgres_server) -> None:  # type: ignore[no-untyped-def]
    dsn = postgres_server.fresh_database(prefix="library_mig")
    results = await asyncio.gather(apply_migrations(dsn), apply_migrations(dsn), apply_migrations(dsn))
    assert sorted(results) == [[], [], MIGRATION_VERSIONS]


async def test_edited_migration_is_refused(postgres_server) -> None:  # type: ignore[no-untyped-def]
    dsn = postgres_server.fresh_database(prefix="library_mig")
    await apply_migrations(dsn)
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'tampered' WHERE version = '0001'")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await apply_migrations(dsn)


# --- database down -------------------------------------------------------------------------------------


async def test_dead_database_reads_and_writes_are_unavailable() -> None:
    from rushes_library.database import CatalogUnavailable
    from rushes_stack.ports import free_port

    dead = Database(f"postgresql://nobody@127.0.0.1:{free_port()}/none", connect_timeout_s=1)
    catalog = Catalog(dead, pipeline_stages=["ingest"])
    assert await catalog.ping() is False
    with pytest.raises(CatalogUnavailable, match="catalog database unavailable"):
        await catalog.get_asset("0123456789abcdef")
    with pytest.raises(CatalogUnavailable):
        await catalog.record_event("rushes.v1.asset.ingested", ingested(asset_id=_new_id()))
    await dead.close()
