"""gRPC QcService: the latest verdicts of an asset, QC of any stored pair, uploads of renditions made
elsewhere, and the QC log."""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import grpc
from rushes.events.v1 import events_pb2
from rushes.qc.v1 import qc_service_pb2 as pb
from rushes.qc.v1 import qc_service_pb2_grpc as pb_grpc
from rushes_events import new_envelope
from rushes_storage import StorageUnavailable, asset_key

from rushes_qc.checks import FIXES
from rushes_qc.external import RenditionUpload, UploadRejected
from rushes_qc.job import QC_SUBJECT, QcJob
from rushes_qc.version import PRODUCER, VERSION

SERVICE_NAME = "rushes.qc.v1.QcService"
_ASSET_ID = re.compile(r"^[0-9a-f]{32}$")
# A rendition may live under any asset's prefix: an upload next to its source, or another ingested asset.
_ANY_ASSET_KEY = re.compile(r"^assets/[0-9a-f]{32}/[^/].*$")


class QcServicer(pb_grpc.QcServiceServicer):
    def __init__(self, job: QcJob) -> None:
        self.job = job

    async def GetQc(self, request: pb.GetQcRequest, context: grpc.aio.ServicerContext) -> pb.GetQcResponse:
        await _check_asset_id(request.asset_id, context)
        found = await self._storage(context, self.job.load_latest, request.asset_id)
        if found is None:
            await _abort(context, grpc.StatusCode.NOT_FOUND, f"asset {request.asset_id} has no QC yet")
        return pb.GetQcResponse(qc=found)

    async def CompareRendition(
        self, request: pb.CompareRenditionRequest, context: grpc.aio.ServicerContext
    ) -> pb.CompareRenditionResponse:
        await _check_asset_id(request.asset_id, context)
        prefix = asset_key(request.asset_id)
        if not request.source_key.startswith(prefix) or ".." in request.source_key:
            await _abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, f"source_key must be an object key under {prefix}"
            )
        if not _ANY_ASSET_KEY.match(request.rendition_key) or ".." in request.rendition_key:
            await _abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, "rendition_key must be an object key under assets/<asset id>/"
            )  # fmt: skip
        fix = request.fix or "generic"
        if fix not in FIXES:
            await _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"fix must be one of {', '.join(FIXES)}, got {fix!r}",
            )
        if request.scale < 0 or not 0 <= request.crop_fraction < 0.45:
            await _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                "scale must be >= 0 and crop_fraction within [0, 0.45)",
            )
        rendition = events_pb2.Rendition(
            fix=fix,
            object_key=request.rendition_key,
            source_key=request.source_key,
            scale=request.scale,
            crop_fraction=request.crop_fraction,
        )
        cause = new_envelope(
            QC_SUBJECT, asset_id=request.asset_id, producer=PRODUCER, producer_version=VERSION
        )
        try:
            event = await self.job.compare(cause, rendition)
        except StorageUnavailable as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        return pb.CompareRenditionResponse(result=event.renditions[0])

    async def UploadRendition(
        self, request_iterator: AsyncIterator[pb.UploadRenditionRequest], context: grpc.aio.ServicerContext
    ) -> pb.UploadRenditionResponse:
        with tempfile.TemporaryDirectory(prefix="rushes-qc-upload-", dir=self.job.work_dir) as tmp:
            upload: RenditionUpload | None = None
            try:
                async for request in request_iterator:
                    part = request.WhichOneof("part")
                    if upload is None:
                        if part != "header":
                            raise UploadRejected("the first message must be the header")
                        upload = await self._start_upload(request.header, Path(tmp) / "rendition", context)
                    elif part != "chunk":
                        raise UploadRejected("only the first message may be a header")
                    else:
                        await asyncio.to_thread(upload.write, request.chunk)
                if upload is None:
                    raise UploadRejected("the upload sent no header")
                path = await asyncio.to_thread(upload.finish)
            except UploadRejected as exc:
                if upload is not None:
                    upload.close()
                await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            created = await self._storage(context, self.job.store_external, upload.key, path, upload.sha256)
        return pb.UploadRenditionResponse(object_key=upload.key, created=created)

    async def _start_upload(
        self, header: pb.UploadRenditionHeader, path: Path, context: grpc.aio.ServicerContext
    ) -> RenditionUpload:
        upload = RenditionUpload(header.asset_id, header.filename, header.size_bytes, header.sha256,
                                 path=path, max_bytes=self.job.limits.max_bytes)  # fmt: skip
        if not await self._storage(context, self.job.has_objects, header.asset_id):
            upload.close()
            await _abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                f"asset {header.asset_id} has nothing in the store: ingest the source first",
            )
        return upload

    async def ListQcChecks(
        self, request: pb.ListQcChecksRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListQcChecksResponse:
        await _check_asset_id(request.asset_id, context)
        try:
            rows = await self._storage(context, self.job.list_checks, request.asset_id)
        except ValueError as exc:
            await _abort(context, grpc.StatusCode.DATA_LOSS, str(exc))
        return pb.ListQcChecksResponse(rows=[log_row(row) for row in rows])

    async def _storage(self, context: grpc.aio.ServicerContext, call: Any, *args: Any) -> Any:
        """Run a blocking store call; an outage is UNAVAILABLE (the client may retry)."""
        try:
            return await asyncio.to_thread(call, *args)
        except StorageUnavailable as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))


def log_row(row: dict[str, Any]) -> pb.QcLogRow:
    proto = pb.QcLogRow(
        fix=row.get("fix", ""),
        rendition_key=row.get("rendition_key", ""),
        rendition_version=int(row.get("rendition_version", 0)),
        shot=int(row.get("shot", 0)),
        metric=row.get("metric", ""),
        value=float(row.get("value", 0.0)),
        threshold=float(row.get("threshold", 0.0)),
        review_threshold=float(row.get("review_threshold", 0.0)),
        fail_threshold=float(row.get("fail_threshold", 0.0)),
        direction=row.get("direction", ""),
        verdict=row.get("verdict", ""),
        detail=row.get("detail", ""),
        preset=row.get("preset", ""),
    )
    if row.get("time"):
        proto.time.FromDatetime(datetime.fromisoformat(row["time"]))
    return proto


async def _abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    await context.abort(code, message)
    raise AssertionError("unreachable: abort raises")


async def _check_asset_id(asset_id: str, context: grpc.aio.ServicerContext) -> None:
    if not _ASSET_ID.match(asset_id):
        await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "asset_id must be the full 32-character id")
