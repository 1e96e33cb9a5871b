"""Hostile inputs through `rushes ingest` of the running stack (issue 10): every file of the corpus
is rejected within a time bound and a memory bound (the ingest service's RSS high-water mark, read
from /proc by this test), leaves no object in S3, crashes no service, reads no file outside the
input and connects nowhere (a loopback listener and a FIFO stand in for the network and for
/etc/passwd: any connection or open is recorded)."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from chaos_harness import ChaosStack, rushes
from chaos_report import record_result
from rushes.ingest.v1 import ingest_service_pb2 as ingest_pb
from rushes.ingest.v1 import ingest_service_pb2_grpc as ingest_grpc
from rushes_grpc import client_channel
from rushes_testing.hostile import HostileCase, build_hostile_corpus, hostile_filenames
from rushes_testing.media import make_clip

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REJECT_WITHIN_S = 30.0  # per file, CLI start to its exit (CLI start-up alone is ~1 s)
MEMORY_GROWTH_BOUND_KIB = 256 * 1024  # decoding one 20000x20000 frame would need ~600 MB
PASSWD_MARKER = "root:x:0:0"


class Tripwires:
    """A loopback port nobody should connect to and a FIFO nobody should open."""

    def __init__(self, directory: Path) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.fifo = directory / "secret.fifo"
        os.mkfifo(self.fifo)
        self.connections: list[str] = []
        self.opens = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept), threading.Thread(target=self._watch_fifo)]
        for thread in self._threads:
            thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.listener.accept()
            except TimeoutError:
                continue
            self.connections.append(f"{peer[0]}:{peer[1]}")
            conn.close()

    def _watch_fifo(self) -> None:
        """Opening a FIFO for writing without blocking succeeds only while someone has it open to read."""
        while not self._stop.is_set():
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
            else:
                self.opens += 1
                os.close(fd)
            time.sleep(0.01)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.listener.close()


@pytest.fixture(scope="module")
def tripwires(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tripwires]:
    wires = Tripwires(tmp_path_factory.mktemp("tripwires"))
    yield wires
    wires.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, tripwires: Tripwires) -> list[HostileCase]:
    directory = tmp_path_factory.mktemp("hostile")
    cases = build_hostile_corpus(directory, port=tripwires.port, secret=str(tripwires.fifo))
    # The same playlists once more, pointing at the real /etc/passwd as the issue words it.
    cases += [
        case
        for case in build_hostile_corpus(directory / "etc_passwd", port=tripwires.port)
        if case.expected_code == "playlist_or_reference"
    ]
    return cases


def _asset_id(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:32]


def test_every_hostile_file_is_rejected_within_bounds(
    chaos_stack: ChaosStack, corpus: list[HostileCase], tripwires: Tripwires
) -> None:
    ingest_pid = chaos_stack.pid("ingest")
    failures: list[str] = []
    worst_s, worst_growth = 0.0, 0
    bookkeeping: set[str] = set()
    for case in corpus:
        rss_before, hwm_before = chaos_stack.rss_kib("ingest")
        started = time.monotonic()
        result = rushes(
            chaos_stack.state_dir, "ingest", "--wait", "--json", str(case.path), check=False, timeout=120
        )
        took = time.monotonic() - started
        _rss_after, hwm_after = chaos_stack.rss_kib("ingest")
        growth = max(0, hwm_after - max(hwm_before, rss_before))
        worst_s, worst_growth = max(worst_s, took), max(worst_growth, growth)
        asset_id = _asset_id(case.path)
        problems = []
        if result.returncode != 1 or "rejected" not in result.stderr:
            problems.append(f"exit {result.returncode}: {result.stderr.strip()[-300:]}")
        if took > REJECT_WITHIN_S:
            problems.append(f"took {took:.1f}s")
        if growth > MEMORY_GROWTH_BOUND_KIB:
            problems.append(f"ingest high-water mark grew {growth} KiB")
        stored = chaos_stack.object_keys(asset_id)
        # Only a stage's own bookkeeping of the rejection (*.pb records) may exist; no media, no part.
        bookkeeping.update(key.split("/", 2)[2] for key in stored if key.endswith(".pb"))
        if media := [key for key in stored if not key.endswith(".pb")]:
            problems.append(f"objects stored: {media}")
        if PASSWD_MARKER in result.stdout + result.stderr:
            problems.append("/etc/passwd content in the answer")
        if chaos_stack.pid("ingest") != ingest_pid:
            problems.append("ingest restarted")
        if problems:
            failures.append(f"{case.path.relative_to(case.path.parents[1])} ({case.description}): {problems}")
    rows = chaos_stack._query(
        "SELECT count(*) FROM audit_log WHERE data::text LIKE %s", [f"%{PASSWD_MARKER}%"]
    )
    health = {name: c["health"] for name, c in chaos_stack.components().items()}
    record_result("hostile corpus through rushes ingest", assets_in=len(corpus), assets_out=0,
                  lost=0, duplicated=0, recover_s=0.0,
                  note=f"slowest rejection {worst_s:.1f}s, worst ingest RSS growth {worst_growth // 1024} MiB, "
                       f"bookkeeping objects kept for rejected assets: {sorted(bookkeeping)}")  # fmt: skip
    assert not failures, "\n".join(failures)
    assert tripwires.connections == [], tripwires.connections
    assert tripwires.opens == 0, "a playlist entry made something open the secret FIFO"
    assert rows[0][0] == 0, "/etc/passwd content reached the catalog"
    assert all(h == "ok" for h in health.values()), health


async def _upload_as(stack: ChaosStack, clip: Path, filename: str) -> grpc.aio.AioRpcError | str:
    data = clip.read_bytes()
    env = stack.env
    channel = client_channel(env["RUSHES_INGEST_ADDRESS"], token=env.get("RUSHES_TOKEN"))
    try:
        stub = ingest_grpc.IngestServiceStub(channel)

        async def requests():  # type: ignore[no-untyped-def]
            yield ingest_pb.IngestFileRequest(
                header=ingest_pb.IngestFileHeader(
                    filename=filename, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest()
                )
            )
            yield ingest_pb.IngestFileRequest(chunk=data)

        try:
            reply = await stub.IngestFile(requests(), timeout=60)
        except grpc.aio.AioRpcError as exc:
            return exc
        return str(reply.result.asset_id)
    finally:
        await channel.close()


def test_hostile_file_names_are_refused_and_store_nothing(chaos_stack: ChaosStack, tmp_path: Path) -> None:
    """Path traversal and control characters in the name a client sends: INVALID_ARGUMENT naming
    the problem, nothing stored (the bytes are a valid clip, so only the name is at fault)."""
    for index, name in enumerate(hostile_filenames()):
        clip = make_clip(tmp_path / f"clip_{index}.mp4", seconds=1, width=64, height=64, seed=6000 + index)
        outcome = asyncio.run(_upload_as(chaos_stack, clip, name))
        assert isinstance(outcome, grpc.aio.AioRpcError), f"{name!r} accepted as {outcome}"
        assert outcome.code() == grpc.StatusCode.INVALID_ARGUMENT, (name, outcome.code(), outcome.details())
        assert "name" in (outcome.details() or "").lower(), (name, outcome.details())
        assert [k for k in chaos_stack.object_keys(_asset_id(clip)) if not k.endswith(".pb")] == [], name


def test_non_utf8_file_name_from_disk_is_one_line_error(chaos_stack: ChaosStack, tmp_path: Path) -> None:
    """A file whose on-disk name is not UTF-8 (Latin-1 from an old card reader): the CLI says so in
    one line instead of a traceback, and nothing is stored."""
    raw = os.fsencode(tmp_path) + b"/Caf\xe9_take1.mp4"
    clip = make_clip(tmp_path / "source.mp4", seconds=1, width=64, height=64, seed=6100)
    os.rename(clip, raw)
    result = rushes(chaos_stack.state_dir, "ingest", os.fsdecode(raw), check=False, timeout=60)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    with open(raw, "rb") as fh:
        asset_id = hashlib.sha256(fh.read()).hexdigest()[:32]
    assert chaos_stack.object_keys(asset_id) == []
