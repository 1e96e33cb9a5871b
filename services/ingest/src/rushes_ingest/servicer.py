"""gRPC IngestService: a thin mapping between the wire and the Ingestor."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from rushes.ingest.v1 import ingest_service_pb2 as pb
from rushes.ingest.v1 import ingest_service_pb2_grpc as pb_grpc
from rushes_events import EventBusUnavailable
from rushes_media import MediaRejected
from rushes_storage import ObjectNotFound, ObjectStore, StorageUnavailable, sha256_file

from rushes_ingest.ingestor import Ingestor, IngestRequest
from rushes_ingest.pipeline import IngestOutcome
from rushes_ingest.spool import Spool, UploadError

log = logging.getLogger(__name__)
MAX_PROJECT_CHARS = 128


def _result(outcome: IngestOutcome) -> pb.IngestResult:
    return pb.IngestResult(
        asset_id=outcome.asset_id,
        duplicate=outcome.duplicate,
        source=outcome.source,
        technical=outcome.technical,
        objects=outcome.objects,
    )


def _trace_id(context: grpc.aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "x-trace-id" and isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable():
            return value
    return uuid.uuid4().hex


def _check_project(project: str) -> str:
    if len(project) > MAX_PROJECT_CHARS or not project.isprintable() or "/" in project:
        raise MediaRejected("bad_project", "project names are printable, without '/', at most 128 characters")
    return project


class IngestServicer(pb_grpc.IngestServiceServicer):
    def __init__(
        self, ingestor: Ingestor, store: ObjectStore, *, spool_dir: Path | None, max_bytes: int
    ) -> None:
        self.ingestor = ingestor
        self.store = store
        self.spool_dir = spool_dir
        self.max_bytes = max_bytes

    async def IngestFile(
        self, request_iterator: AsyncIterator[pb.IngestFileRequest], context: grpc.aio.ServicerContext
    ) -> pb.IngestFileResponse:
        with Spool(self.spool_dir, max_bytes=self.max_bytes) as spool:
            header: pb.IngestFileHeader | None = None
            try:
                async for message in request_iterator:
                    if message.HasField("header"):
                        if header is not None:
                            raise UploadError("the header must be sent once, first")
                        header = message.header
                    elif header is None:
                        raise UploadError("the first message of an upload must be its header")
                    else:
                        await asyncio.to_thread(spool.write, message.chunk)
                if header is None:
                    raise UploadError("empty upload: no header")
                spooled = spool.finish(declared_size=header.size_bytes, declared_sha256=header.sha256)
            except UploadError as exc:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
                raise  # abort raises; this keeps type checkers informed
            request = IngestRequest(
                path=spooled.path,
                filename=header.filename,
                sha256=spooled.sha256,
                project=header.project,
                trace_id=_trace_id(context),
            )
            outcome = await self._ingest(request, context)
            return pb.IngestFileResponse(result=_result(outcome))

    async def RegisterObject(
        self, request: pb.RegisterObjectRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterObjectResponse:
        if request.bucket and request.bucket != self.store.bucket:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"only objects in the configured bucket {self.store.bucket!r} can be registered",
            )
        if not request.key or request.key.startswith("assets/"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "key must name an object outside assets/")
        filename = request.filename or request.key.rsplit("/", 1)[-1]
        with Spool(self.spool_dir, max_bytes=self.max_bytes) as spool:
            spool.close()  # we only want its unique path; get_file writes it
            try:
                stored = await asyncio.to_thread(
                    self.store.get_file, request.key, spool.path, max_bytes=self.max_bytes
                )
            except ObjectNotFound:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"no object {request.key!r} in the bucket")
            except StorageUnavailable as exc:
                await context.abort(grpc.StatusCode.UNAVAILABLE, f"object store unavailable: {exc}")
            except ValueError as exc:  # too large, bad key
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            sha = stored.sha256 or await asyncio.to_thread(sha256_file, spool.path)
            outcome = await self._ingest(
                IngestRequest(
                    path=spool.path,
                    filename=filename,
                    sha256=sha,
                    project=request.project,
                    trace_id=_trace_id(context),
                ),
                context,
            )
            return pb.RegisterObjectResponse(result=_result(outcome))

    async def _ingest(self, request: IngestRequest, context: grpc.aio.ServicerContext) -> IngestOutcome:
        try:
            request.project = _check_project(request.project)
            return await self.ingestor.ingest(request)
        except MediaRejected as exc:
            log.info("rejected %r: %s (%s)", request.filename, exc.reason, exc.code)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"rejected ({exc.code}): {exc.reason}")
        except StorageUnavailable as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"object store unavailable: {exc}")
        except EventBusUnavailable as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        raise AssertionError("unreachable")  # context.abort raises
