"""gRPC EnhanceService: a fix on demand (a new rendition version, announced like automatic ones)."""

from __future__ import annotations

import logging
import re

import grpc
from rushes.enhance.v1 import enhance_service_pb2 as pb
from rushes.enhance.v1 import enhance_service_pb2_grpc as pb_grpc
from rushes_events import EventBusUnavailable
from rushes_inference import InferenceError, ModelUnavailable
from rushes_media import MediaRejected
from rushes_storage import ObjectNotFound, StorageUnavailable

from rushes_enhance.fixes import EnhanceRequestError, SourceUnavailable, parse_fixes
from rushes_enhance.job import EnhanceJob

log = logging.getLogger(__name__)
SERVICE_NAME = "rushes.enhance.v1.EnhanceService"
_ASSET_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_SHOTS_PER_REQUEST = 10_000


class EnhanceServicer(pb_grpc.EnhanceServiceServicer):
    def __init__(self, job: EnhanceJob) -> None:
        self.job = job

    async def Enhance(
        self, request: pb.EnhanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.EnhanceResponse:
        if not _ASSET_ID.match(request.asset_id):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "asset_id must be the full 32-character id")
        if len(request.shot_indices) > MAX_SHOTS_PER_REQUEST:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"at most {MAX_SHOTS_PER_REQUEST} shot indices"
            )
        trace = dict(context.invocation_metadata() or ()).get("x-trace-id")
        try:
            fixes = parse_fixes(list(request.fixes))
            event = await self.job.on_request(
                request.asset_id, fixes, list(request.shot_indices), trace_id=str(trace) if trace else None
            )
        except EnhanceRequestError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise
        except SourceUnavailable as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
            raise
        except MediaRejected as exc:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, f"the proxy cannot be decoded: {exc.code}: {exc.reason}"
            )
            raise
        except InferenceError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"the upscaler refused the input: {exc}")
            raise
        except ObjectNotFound as exc:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, f"object {exc} is missing from the store"
            )
            raise
        except (StorageUnavailable, ModelUnavailable, EventBusUnavailable) as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
            raise
        return pb.EnhanceResponse(asset_id=request.asset_id, renditions=list(event.renditions))
