"""`rushes ingest PATH... [--project P] [--wait] [--json]`."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from rushes.ingest.v1 import ingest_service_pb2 as ingest_pb
from rushes.ingest.v1 import ingest_service_pb2_grpc as ingest_grpc
from rushes.library.v1 import library_service_pb2 as library_pb
from rushes.library.v1 import library_service_pb2_grpc as library_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel
from rushes_storage import sha256_file

from rushes_cli.errors import EXIT_FAILED, EXIT_OK, CliError, from_rpc_error
from rushes_cli.progress import WaitDisplay
from rushes_cli.records import asset_record

CHUNK_BYTES = 1024 * 1024
UPLOAD_DEADLINE_S = 3600.0
ACCESS_CHECK_DEADLINE_S = 30.0
ASSET_ID_HEX_CHARS = 32  # mirrors the ingest service: asset ids are the SHA-256's prefix
FINAL_STATUSES = {"complete", "failed", "rejected"}


@dataclass
class FileOutcome:
    path: Path
    asset_id: str = ""
    error: str = ""
    duplicate: bool = False
    record: dict[str, Any] = field(default_factory=dict)


async def _requests(path: Path, project: str, sha256: str) -> AsyncIterator[ingest_pb.IngestFileRequest]:
    size = path.stat().st_size
    yield ingest_pb.IngestFileRequest(
        header=ingest_pb.IngestFileHeader(filename=path.name, project=project, size_bytes=size, sha256=sha256)
    )
    with path.open("rb") as fh:
        while chunk := await asyncio.to_thread(fh.read, CHUNK_BYTES):
            yield ingest_pb.IngestFileRequest(chunk=chunk)


def check_paths(paths: list[str]) -> list[Path]:
    checked = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise CliError(f"{raw}: no such file")
        if not path.is_file():
            raise CliError(f"{raw}: not a regular file")
        try:
            path.name.encode("utf-8")
        except UnicodeEncodeError:
            # An old card reader's Latin-1 name: the catalog, subtitles and editors' tools need text.
            shown = path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise CliError(
                f"{shown}: the file name is not valid UTF-8; rename the file and ingest it again"
            ) from None
        checked.append(path)
    return checked


async def _check_may_ingest(stub: ingest_grpc.IngestServiceStub) -> None:
    """Ask once, before any upload, whether this token may ingest.

    grpc aio can report a refusal that arrives while a file is still streaming as INTERNAL "Internal
    error from Core" instead of the server's UNAUTHENTICATED / PERMISSION_DENIED (grpc/grpc#36066),
    so the CLI asks with a unary call first. An empty RegisterObject meets the same role check as
    IngestFile and, once past it, is rejected as invalid: nothing is registered.
    """
    try:
        await stub.RegisterObject(ingest_pb.RegisterObjectRequest(), timeout=ACCESS_CHECK_DEADLINE_S)
    except grpc.aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
            raise from_rpc_error("ingest", exc) from None
        # Anything else (the expected INVALID_ARGUMENT, or an outage) is for the upload to meet.


async def _upload(stub: ingest_grpc.IngestServiceStub, path: Path, project: str) -> FileOutcome:
    outcome = FileOutcome(path=path)
    sha256 = await asyncio.to_thread(sha256_file, path)
    outcome.asset_id = sha256[:ASSET_ID_HEX_CHARS]
    try:
        response = await stub.IngestFile(_requests(path, project, sha256), timeout=UPLOAD_DEADLINE_S)
    except grpc.aio.AioRpcError as exc:
        error = from_rpc_error(str(path), exc)
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise error from None  # the stack's fault: stop, nothing more will work
        outcome.error = str(error)
        return outcome
    outcome.asset_id = response.result.asset_id
    outcome.duplicate = response.result.duplicate
    return outcome


async def _fetch(
    stub: library_grpc.LibraryServiceStub, asset_id: str, audit: bool = True
) -> dict[str, Any] | None:
    try:
        response = await stub.GetAsset(
            library_pb.GetAssetRequest(asset_id=asset_id, include_audit=audit), timeout=10.0
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return None  # the library has not seen the event yet
        raise from_rpc_error(f"asset {asset_id}", exc) from None
    return asset_record(response.asset)


async def _wait(
    stub: library_grpc.LibraryServiceStub, outcomes: list[FileOutcome], timeout_s: float, display: WaitDisplay
) -> None:
    deadline = time.monotonic() + timeout_s
    pending = {o.asset_id: o for o in outcomes}
    while pending:
        for asset_id, outcome in list(pending.items()):
            record = await _fetch(stub, asset_id, audit=False)
            if record is None:
                continue
            outcome.record = record
            display.update(outcome.path.name, record)
            if record.get("status") in FINAL_STATUSES:
                del pending[asset_id]
        if not pending:
            break
        if time.monotonic() > deadline:
            names = ", ".join(o.path.name for o in pending.values())
            raise CliError(f"timed out after {timeout_s:g} s waiting for: {names}")
        await asyncio.sleep(0.5)


async def run_ingest(
    settings: RushesSettings, paths: list[Path], *, project: str, wait: bool, as_json: bool, timeout_s: float
) -> tuple[int, list[FileOutcome]]:
    outcomes: list[FileOutcome] = []
    async with (
        client_channel(settings.ingest_address) as ingest_ch,
        client_channel(settings.library_address) as library_ch,
    ):
        ingest = ingest_grpc.IngestServiceStub(ingest_ch)
        library = library_grpc.LibraryServiceStub(library_ch)
        await _check_may_ingest(ingest)
        for path in paths:
            outcome = await _upload(ingest, path, project)
            outcomes.append(outcome)
            if outcome.error:
                print(f"rushes: {outcome.error}", file=sys.stderr)
            elif not as_json:
                note = " (already ingested)" if outcome.duplicate else ""
                print(f"{outcome.asset_id}  {path.name}{note}")
        if wait:
            with WaitDisplay(enabled=sys.stderr.isatty() and not as_json) as display:
                await _wait(library, outcomes, timeout_s, display)
        elif as_json:
            for outcome in outcomes:
                outcome.record = await _fetch(library, outcome.asset_id) or {"asset_id": outcome.asset_id}
        if wait and as_json:
            for outcome in outcomes:  # final records, with their audit trail
                outcome.record = await _fetch(library, outcome.asset_id) or outcome.record
    failed = any(o.error or o.record.get("status") in {"failed", "rejected"} for o in outcomes)
    return (EXIT_FAILED if failed else EXIT_OK), outcomes
