"""gRPC GradingService: MatchLook, Preview, project reference looks (a thin layer over GradingJob)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
from rushes.grading.v1 import grading_service_pb2 as pb
from rushes.grading.v1 import grading_service_pb2_grpc as pb_grpc
from rushes_events import EventBusUnavailable
from rushes_media import MediaRejected
from rushes_storage import ObjectNotFound, StorageUnavailable

from rushes_grading import matcher
from rushes_grading.convert import params_from_proto
from rushes_grading.errors import GradingRefused
from rushes_grading.job import GradingJob, ReferenceLook
from rushes_grading.presets import PresetError, get_preset
from rushes_grading.store import project_key

T = TypeVar("T")
_STATUS = {
    "not_found": grpc.StatusCode.NOT_FOUND,
    "invalid_argument": grpc.StatusCode.INVALID_ARGUMENT,
    "failed_precondition": grpc.StatusCode.FAILED_PRECONDITION,
}


async def _guarded(context: grpc.aio.ServicerContext, call: Callable[[], Awaitable[T]]) -> T:
    """Run `call`, turning domain failures into one-line gRPC errors."""
    try:
        return await call()
    except GradingRefused as exc:
        await context.abort(_STATUS[exc.kind], exc.message)
    except PresetError as exc:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    except MediaRejected as exc:
        await context.abort(
            grpc.StatusCode.FAILED_PRECONDITION, f"the asset's media: {exc.code}: {exc.reason}"
        )
    except ObjectNotFound as exc:
        await context.abort(
            grpc.StatusCode.FAILED_PRECONDITION, f"an object of the asset is missing from the store: {exc}"
        )
    except (StorageUnavailable, EventBusUnavailable) as exc:
        await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
    raise AssertionError("unreachable: context.abort raises")


class GradingServicer(pb_grpc.GradingServiceServicer):
    def __init__(self, job: GradingJob) -> None:
        self.job = job
        # Matching is CPU bound: one request at a time keeps previews responsive on small machines.
        self._match_lock = asyncio.Lock()

    async def _reference(self, reference: pb.Reference, required: bool) -> ReferenceLook | None:
        which = reference.WhichOneof("source")
        if which == "image":
            return await asyncio.to_thread(self.job.reference_from_image, reference.image)
        if which == "frame":
            frame = reference.frame
            return await asyncio.to_thread(self.job.reference_from_frame, frame.asset_id, frame.time_s)
        if required:
            raise GradingRefused(
                "invalid_argument", "a reference is required: an asset frame (ASSET@TIME) or an image"
            )
        return None

    async def MatchLook(
        self, request: pb.MatchLookRequest, context: grpc.aio.ServicerContext
    ) -> pb.MatchLookResponse:
        async def run() -> pb.MatchLookResponse:
            mode = request.mode or "look"
            if mode not in matcher.MODES:
                raise GradingRefused(
                    "invalid_argument", f"unknown mode {mode!r}; known: {', '.join(matcher.MODES)}"
                )
            preset = get_preset(request.preset or None)
            async with self._match_lock:
                reference = await self._reference(request.reference, required=mode == "look")
                result = await self.job.match(
                    reference,
                    list(request.asset_ids),
                    mode,  # type: ignore[arg-type]
                    preset,
                    allow_bit_depth_mismatch=request.allow_bit_depth_mismatch,
                )
            return pb.MatchLookResponse(
                assets=result.assets,
                continuity=result.continuity,
                review_count=sum(
                    1 for event in result.assets for grade in event.grades if grade.needs_review
                ),
                hero=result.hero,
            )

        return await _guarded(context, run)

    async def Preview(
        self, request: pb.PreviewRequest, context: grpc.aio.ServicerContext
    ) -> pb.PreviewResponse:
        async def run() -> pb.PreviewResponse:
            params = params_from_proto(request.params) if request.HasField("params") else None
            jpeg, width, height, at = await asyncio.to_thread(
                self.job.preview,
                request.asset_id,
                shot_index=request.shot_index if request.HasField("shot_index") else None,
                time_s=request.time_s if request.HasField("time_s") else None,
                frame_number=request.frame if request.HasField("frame") else None,
                params=params,
                look_id=request.look_id,
                zoom=request.zoom,
                center=(
                    request.center_x if request.HasField("center_x") else 0.5,
                    request.center_y if request.HasField("center_y") else 0.5,
                ),
                size=request.size,
                layout=request.layout,
            )
            return pb.PreviewResponse(jpeg=jpeg, width=width, height=height, time_s=at)

        return await _guarded(context, run)

    async def SetProjectReference(
        self, request: pb.SetProjectReferenceRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetProjectReferenceResponse:
        async def run() -> pb.SetProjectReferenceResponse:
            project_key(request.project)  # validates the name before any work
            preset = get_preset(request.preset or None)
            reference = await self._reference(request.reference, required=True)
            assert reference is not None
            key = await asyncio.to_thread(self.job.set_project_reference, request.project, reference, preset)
            return pb.SetProjectReferenceResponse(project=request.project, key=key, reference=reference.label)

        return await _guarded(context, run)

    async def GetProjectReference(
        self, request: pb.GetProjectReferenceRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetProjectReferenceResponse:
        async def run() -> pb.GetProjectReferenceResponse:
            key = project_key(request.project, "look.json")
            look = await asyncio.to_thread(self.job.grades.load_project_look, request.project)
            if look is None:
                return pb.GetProjectReferenceResponse(project=request.project, configured=False)
            settings, _stats = look
            return pb.GetProjectReferenceResponse(
                project=request.project,
                key=key,
                reference=str(settings.get("label", "")),
                preset=str(settings.get("preset", "")),
                configured=True,
            )

        return await _guarded(context, run)
