"""The library in-process with real nats-server, Postgres and Triton (text_embedder): events in,
shots embedded in the background, SearchService / review / audit over gRPC and through the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from library_test_events import ingested
from prometheus_client import REGISTRY
from rushes.events.v1 import events_pb2
from rushes.library.v1 import library_service_pb2 as pb
from rushes.library.v1 import library_service_pb2_grpc as pb_grpc
from rushes.library.v1 import search_service_pb2 as spb
from rushes.library.v1 import search_service_pb2_grpc as spb_grpc
from rushes_config import GrpcSettings, PostgresSettings, RushesSettings, TritonSettings
from rushes_events import EventBus, message_id
from rushes_grpc import RunningServer
from rushes_library.service import run_library
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.postgres import PostgresServer
from rushes_stack.components.tritonserver import TritonServer
from search_test_data import ShotSpec, tagged, transcribed

pytestmark = [pytest.mark.integration, pytest.mark.slow]
WAIT_S = 60.0
HARBOUR = uuid.uuid4().hex
OFFICE = uuid.uuid4().hex


class Running:
    def __init__(self, server: RunningServer, dsn: str) -> None:
        self.address = server.address
        self.dsn = dsn
        self.channel = grpc.aio.insecure_channel(server.address)
        self.library = pb_grpc.LibraryServiceStub(self.channel)
        self.search = spb_grpc.SearchServiceStub(self.channel)


@pytest_asyncio.fixture(scope="module")
async def bus(nats_server: NatsServer) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(nats_server.settings(), name="search-test", version="0")
    await bus.ensure_stream()
    yield bus
    await bus.close()


@pytest_asyncio.fixture(scope="module")
async def running(
    nats_server: NatsServer, postgres_server: PostgresServer, triton_server: TritonServer, bus: EventBus
) -> AsyncIterator[Running]:
    dsn = postgres_server.fresh_database(prefix="library_search")
    settings = RushesSettings(
        nats=nats_server.settings(),
        postgres=PostgresSettings(dsn=dsn),
        grpc=GrpcSettings(address="127.0.0.1:0", grace_s=2.0),
        triton=TritonSettings(url=triton_server.grpc_url),
        pipeline_stages=["ingest"],
    )
    stop = asyncio.Event()
    ready: asyncio.Future[RunningServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_library(settings, stop, on_ready=ready.set_result))
    done, _ = await asyncio.wait({task, ready}, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        stop.set()
        await task
        pytest.fail("the library did not become ready")
    running = Running(ready.result(), dsn)
    for asset_id, project, shots, words in (
        (HARBOUR, "coast", [ShotSpec(0, 6, {"shot_type": ("wide", 0.8), "mood": ({"moods": ["dark", "calm"]}, 0.6)}),
                            ShotSpec(6, 9, {"shot_type": ("close_up", 0.3)}, review={"shot_type"})],
         [("fishing", 1.0), ("boats", 1.5), ("come", 2.0), ("back", 2.3), ("to", 2.6), ("the", 2.8), ("harbour", 3.1),
          ("at", 3.5), ("dusk", 3.8)]),
        (OFFICE, "coast", [ShotSpec(0, 5, {"shot_type": ("close_up", 0.9), "category": ("interview", 0.9)})],
         [("our", 1.0), ("quarterly", 1.3), ("budget", 1.8), ("meeting", 2.2)]),
    ):  # fmt: skip
        event = ingested(asset_id=asset_id, project=project)
        await bus.publish(event, msg_id=message_id(asset_id, "ingest", "1"))
        await bus.publish(
            tagged(asset_id, shots, project=project), msg_id=message_id(asset_id, "tagging", "1")
        )
        await bus.publish(
            transcribed(asset_id, words, project=project), msg_id=message_id(asset_id, "asr", "1")
        )
    await _wait_embedded(running, expected=3)
    yield running
    await running.channel.close()
    stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, timeout=WAIT_S)


async def _wait_embedded(running: Running, *, expected: int) -> None:
    import psycopg

    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        async with await psycopg.AsyncConnection.connect(running.dsn) as conn:
            cursor = await conn.execute(
                "SELECT count(*) FROM search_vectors WHERE asset_id = ANY(%s)",
                ([HARBOUR, OFFICE],),
            )
            row = await cursor.fetchone()
        if row is not None and row[0] >= expected:
            return
        await asyncio.sleep(0.2)
    pytest.fail("the shots were not embedded in time")


async def test_natural_language_query_is_hybrid_and_finds_the_harbour(running: Running) -> None:
    before = REGISTRY.get_sample_value("rushes_search_queries_total", {"kind": "hybrid", "result": "ok"}) or 0
    reply = await running.search.Search(
        spb.SearchRequest(query="fishing boats returning to port in the evening", project="coast"), timeout=10
    )
    assert reply.kind == "hybrid"
    assert reply.hits[0].asset_id == HARBOUR and reply.hits[0].shot_index == 0
    assert (reply.hits[0].start_s, reply.hits[0].end_s) == (0.0, 6.0)
    after = REGISTRY.get_sample_value("rushes_search_queries_total", {"kind": "hybrid", "result": "ok"})
    assert after == before + 1
    assert REGISTRY.get_sample_value("rushes_search_duration_seconds_count", {"kind": "hybrid"})


async def test_boolean_filters_and_facets_over_grpc(running: Running) -> None:
    reply = await running.search.Search(
        spb.SearchRequest(query="shot_type:close_up AND NOT category:interview", facets=True), timeout=10
    )
    assert [(h.asset_id, h.shot_index) for h in reply.hits] == [(HARBOUR, 1)]
    assert reply.kind == "boolean"
    assert dict(reply.facets["shot_type"].counts) == {"close_up": 1}


async def test_malformed_query_is_invalid_argument_with_a_position(running: Running) -> None:
    zero_before = REGISTRY.get_sample_value("rushes_search_zero_results_total", {"kind": "boolean"}) or 0
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running.search.Search(spb.SearchRequest(query="shot_type:close_up AND (mood:dark"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "(at character 24)" in (caught.value.details() or "")
    await running.search.Search(spb.SearchRequest(query="scene:999"), timeout=10)
    assert (
        REGISTRY.get_sample_value("rushes_search_zero_results_total", {"kind": "boolean"}) == zero_before + 1
    )


async def test_more_like_this_and_autocomplete(running: Running) -> None:
    request = spb.MoreLikeThisRequest(asset_id=HARBOUR, shot_index=0, project="coast")
    reply = await running.search.MoreLikeThis(request, timeout=10)
    assert (HARBOUR, 0) not in [(h.asset_id, h.shot_index) for h in reply.hits]
    assert reply.hits and all(-1.0 <= h.score <= 1.0 for h in reply.hits)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await running.search.MoreLikeThis(
            spb.MoreLikeThisRequest(asset_id=HARBOUR, shot_index=99), timeout=10
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    completions = await running.search.Autocomplete(spb.AutocompleteRequest(prefix="tag:golden"), timeout=10)
    assert list(completions.completions) == ["tag:warm"]


async def test_accept_publishes_reviewed_and_lands_in_the_audit_trail(
    running: Running, bus: EventBus
) -> None:
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_message(msg) -> None:  # type: ignore[no-untyped-def]
        await received.put(msg.data)

    subscription = await bus.nc.subscribe("rushes.v1.asset.reviewed", cb=on_message)
    try:
        items = (
            await running.library.ListReviewItems(pb.ListReviewItemsRequest(asset_id=HARBOUR), timeout=10)
        ).items
        [item] = items
        assert item.item_id == "shots/1/values/shot_type" and item.confidence == pytest.approx(0.3)
        stale = pb.DecideReviewItemRequest(
            asset_id=HARBOUR, item_id=item.item_id, verdict="accepted", expected_revision="x", reviewer="ana"
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.library.DecideReviewItem(stale, timeout=10)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        stale.expected_revision = item.revision
        decided = await running.library.DecideReviewItem(stale, timeout=10)
        event = events_pb2.AssetReviewed.FromString(await asyncio.wait_for(received.get(), timeout=10))
    finally:
        await subscription.unsubscribe()
    assert event.verdict == "accepted" and event.envelope.id == decided.verdict_id
    assert event.correction.reviewer == "ana" and event.correction.old.model == "shot_type-heuristic"
    assert event.correction.new_value.string_value == "close_up"
    trail = await running.library.GetAuditTrail(pb.GetAuditTrailRequest(asset_id=HARBOUR), timeout=10)
    types = [e.entry.event_type for e in trail.entries]
    assert "rushes.v1.asset.tagged" in types and types[-1] == "rushes.v1.asset.reviewed"
    tagged_entry = trail.entries[types.index("rushes.v1.asset.tagged")]
    assert {(d.field, d.shot_index) for d in tagged_entry.decisions} == {
        ("shot_type", 0),
        ("mood", 0),
        ("shot_type", 1),
    }
    assert all(d.model_version == "1.2.0" for d in tagged_entry.decisions)


def _cli(running: Running, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    env |= {
        "RUSHES_INGEST_ADDRESS": "127.0.0.1:1",
        "RUSHES_LIBRARY_ADDRESS": running.address,
        "RUSHES_REVIEWER": "cli",
    }
    return subprocess.run(
        [sys.executable, "-m", "rushes_cli.main", "--state-dir", str(tmp_path), *args],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


async def test_cli_search_review_and_audit(running: Running, tmp_path: Path) -> None:
    found = await asyncio.to_thread(
        _cli, running, tmp_path, "search", "shot_type:close_up", "--json", "--project", "coast"
    )
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert {(h["asset_id"], h["shot_index"]) for h in hits} == {(HARBOUR, 1), (OFFICE, 0)}
    assert set(hits[0]) >= {"asset_id", "shot_index", "start_s", "end_s", "score", "highlights"}
    table = await asyncio.to_thread(_cli, running, tmp_path, "search", '"quarterly budget"')
    assert table.returncode == 0 and f"assets/{OFFICE}/keyframes/0000.jpg" in table.stdout
    assert "«quarterly budget»" in table.stdout
    bad = await asyncio.to_thread(_cli, running, tmp_path, "search", "nosuch:1")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "unknown field 'nosuch'" in bad.stderr
    listed = await asyncio.to_thread(
        _cli, running, tmp_path, "review", "list", "--json", "--project", "coast"
    )
    assert listed.returncode == 0, listed.stderr
    audit = await asyncio.to_thread(_cli, running, tmp_path, "audit", OFFICE, "--json")
    assert audit.returncode == 0, audit.stderr
    trail = json.loads(audit.stdout)
    assert trail["asset_id"] == OFFICE and trail["entries"][0]["event_type"] == "rushes.v1.asset.ingested"
    assert any(d["model"] == "category-heuristic" for e in trail["entries"] for d in e["decisions"])
    rejected = await asyncio.to_thread(
        _cli, running, tmp_path, "review", "reject", OFFICE, "shots/0/values/nope"
    )
    assert rejected.returncode == 1 and "no open review item" in rejected.stderr
