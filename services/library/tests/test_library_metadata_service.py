"""UpdateMetadata / GetMetadata / SuggestTags over gRPC and `rushes meta|suggest|show` by subprocess,
with the library in-process on real nats-server and Postgres (no Triton: suggestions need none)."""

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
from rushes.library.v1 import library_service_pb2 as pb
from rushes.library.v1 import library_service_pb2_grpc as pb_grpc
from rushes_config import GrpcSettings, PostgresSettings, RushesSettings
from rushes_grpc import RunningServer
from rushes_library.catalog import Catalog
from rushes_library.database import Database
from rushes_library.service import run_library
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.postgres import PostgresServer
from search_test_data import ShotSpec, add_asset

pytestmark = pytest.mark.integration
WAIT_S = 60.0
ASSET = uuid.uuid4().hex


class Running:
    def __init__(self, server: RunningServer, dsn: str) -> None:
        self.address = server.address
        self.dsn = dsn
        self.channel = grpc.aio.insecure_channel(server.address)
        self.library = pb_grpc.LibraryServiceStub(self.channel)


@pytest_asyncio.fixture(scope="module")
async def running(nats_server: NatsServer, postgres_server: PostgresServer) -> AsyncIterator[Running]:
    dsn = postgres_server.fresh_database(prefix="library_meta")
    settings = RushesSettings(
        nats=nats_server.settings(),
        postgres=PostgresSettings(dsn=dsn),
        grpc=GrpcSettings(address="127.0.0.1:0", grace_s=2.0),
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
    db = Database(dsn, max_connections=1)
    await add_asset(
        Catalog(db, pipeline_stages=["ingest"]), ASSET, project="meta",
        shots=[ShotSpec(0.0, 4.0, {"shot_type": ("close_up", 0.9)})],
    )  # fmt: skip
    await db.close()
    running = Running(ready.result(), dsn)
    yield running
    await running.channel.close()
    stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, timeout=WAIT_S)


async def test_update_over_grpc_then_stale_and_bad_requests(running: Running) -> None:
    current = (await running.library.GetMetadata(pb.GetMetadataRequest(asset_id=ASSET))).metadata
    assert current.access == "project" and list(current.tags) == []
    response = await running.library.UpdateMetadata(
        pb.UpdateMetadataRequest(
            asset_id=ASSET[:10], expected_record_version=current.record_version, editor="ana",
            title="Keeper", set_tags=True, tags=["closeup"], access="restricted",
        )
    )  # fmt: skip
    assert [c.field for c in response.changes] == [
        "descriptive.title", "descriptive.tags", "administrative.access",
    ]  # fmt: skip
    assert response.metadata.record_version == current.record_version + 1
    assert list(response.metadata.tags) == ["close_up"] and response.metadata.access == "restricted"
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await running.library.UpdateMetadata(
            pb.UpdateMetadataRequest(
                asset_id=ASSET, expected_record_version=current.record_version, editor="bob", title="Other"
            )
        )
    assert stale.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    for request, code, text in (
        (pb.UpdateMetadataRequest(asset_id=ASSET, expected_record_version=99, editor="a", set_tags=True,
                                  tags=["zzz"]), grpc.StatusCode.INVALID_ARGUMENT, "tag 'zzz' is not in the taxonomy"),
        (pb.UpdateMetadataRequest(asset_id=ASSET, expected_record_version=99, editor="a"),
         grpc.StatusCode.INVALID_ARGUMENT, "nothing to change"),
        (pb.UpdateMetadataRequest(asset_id="0" * 32, expected_record_version=1, editor="a", title="t"),
         grpc.StatusCode.NOT_FOUND, "no asset"),
    ):  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.library.UpdateMetadata(request)
        assert refused.value.code() == code and text in (refused.value.details() or "")
    suggestions = await running.library.SuggestTags(pb.SuggestTagsRequest(asset_id=ASSET, shot_index=0))
    assert not suggestions.used_neighbours
    # close_up and its ancestors are applied now: nothing from the shot's own value is left to suggest
    assert [s.tag for s in suggestions.suggestions] == []
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await running.library.SuggestTags(pb.SuggestTagsRequest(asset_id=ASSET, shot_index=5))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def _cli(running: Running, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    env |= {
        "RUSHES_INGEST_ADDRESS": "127.0.0.1:1",
        "RUSHES_LIBRARY_ADDRESS": running.address,
        "RUSHES_REVIEWER": "cli-editor",
    }
    return subprocess.run(
        [sys.executable, "-m", "rushes_cli.main", "--state-dir", str(tmp_path), *args],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


async def test_cli_meta_set_show_suggest_and_the_record(running: Running, tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return _cli(running, tmp_path, *args)

    shown = await asyncio.to_thread(cli, "meta", "show", ASSET, "--json")
    assert shown.returncode == 0, shown.stderr
    version = json.loads(shown.stdout)["record_version"]
    edited = await asyncio.to_thread(
        cli, "meta", "set", ASSET, "--description", "A lighthouse keeper at dusk", "--license", "CC-BY-4.0",
        "--clear-tags", "--json",
    )  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    result = json.loads(edited.stdout)
    assert result["metadata"]["record_version"] == version + 1
    assert {c["field"] for c in result["changes"]} == {
        "descriptive.description", "administrative.licence", "descriptive.tags",
    }  # fmt: skip
    stale = await asyncio.to_thread(
        cli, "meta", "set", ASSET, "--title", "x", "--expected-version", str(version)
    )
    assert stale.returncode == 1 and "changed since you read it" in stale.stderr
    bad_tag = await asyncio.to_thread(cli, "meta", "set", ASSET, "--tag", "nosuch")
    assert bad_tag.returncode == 1 and "tag 'nosuch' is not in the taxonomy" in bad_tag.stderr
    bad_access = await asyncio.to_thread(cli, "meta", "set", ASSET, "--access", "world")
    assert bad_access.returncode == 1 and "access 'world'" in bad_access.stderr
    wrong_asset = await asyncio.to_thread(cli, "meta", "show", "9" * 32)
    assert wrong_asset.returncode == 1 and "not found" in wrong_asset.stderr
    record = await asyncio.to_thread(cli, "show", ASSET, "--json")
    assert record.returncode == 0, record.stderr
    sections = json.loads(record.stdout)
    flat = json.dumps(sections)
    assert "A lighthouse keeper at dusk" in flat and "CC-BY-4.0" in flat
    suggested = await asyncio.to_thread(cli, "suggest", ASSET, "--shot", "0", "--json")
    assert suggested.returncode == 0, suggested.stderr
    tags = [s["tag"] for s in json.loads(suggested.stdout)]
    assert tags[:3] == ["close_up", "framing", "technique"]  # tags cleared: its own value is back
    table = await asyncio.to_thread(cli, "suggest", ASSET, "--shot", "0")
    assert "shot_type is close_up (confidence 0.90)" in table.stdout
    found = await asyncio.to_thread(
        cli, "search", "lighthouse", "--mode", "boolean", "--json", "--project", "meta"
    )
    assert found.returncode == 0, found.stderr
    assert [(h["asset_id"], h["shot_index"]) for h in json.loads(found.stdout)] == [(ASSET, 0)]
