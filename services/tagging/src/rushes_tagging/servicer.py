"""gRPC TaggingService: retag an asset under another preset; list the presets."""

from __future__ import annotations

import asyncio
import re

import grpc
from rushes.tagging.v1 import tagging_service_pb2 as pb
from rushes.tagging.v1 import tagging_service_pb2_grpc as pb_grpc
from rushes_events import EventBusUnavailable
from rushes_inference import InferenceError, ModelUnavailable
from rushes_media import MediaRejected
from rushes_storage import StorageUnavailable

from rushes_tagging.job import TaggingJob
from rushes_tagging.presets import PresetError, PresetFile, get_preset

_ASSET_ID = re.compile(r"^[0-9a-f]{32}$")


class TaggingServicer(pb_grpc.TaggingServiceServicer):
    def __init__(self, job: TaggingJob, presets: PresetFile) -> None:
        self.job = job
        self.presets = presets
        self._locks: dict[str, asyncio.Lock] = {}

    async def Retag(self, request: pb.RetagRequest, context: grpc.aio.ServicerContext) -> pb.RetagResponse:
        if not _ASSET_ID.match(request.asset_id):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "asset_id must be the full 32-character id")
        try:
            preset = get_preset(request.preset or None, self.presets)
        except PresetError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise
        # One retag of an asset at a time, so two requests cannot claim the same version.
        lock = self._locks.setdefault(request.asset_id, asyncio.Lock())
        async with lock:
            try:
                ingested = await asyncio.to_thread(self.job.tags.load_input, request.asset_id)
                if ingested is None:
                    await context.abort(
                        grpc.StatusCode.NOT_FOUND,
                        f"asset {request.asset_id} has not been tagged yet (unknown or in progress)",
                    )
                    raise AssertionError("unreachable")
                if not ingested.technical.has_video:
                    await context.abort(
                        grpc.StatusCode.FAILED_PRECONDITION, "the asset is audio only: nothing to tag"
                    )
                versions = await asyncio.to_thread(self.job.tags.versions, request.asset_id)
                version = (max(versions) if versions else 0) + 1
                outcome = await self.job.run(ingested, preset, version)
            except MediaRejected as exc:
                await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{exc.code}: {exc.reason}")
                raise
            except (StorageUnavailable, ModelUnavailable, EventBusUnavailable) as exc:
                await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
                raise
            except InferenceError as exc:
                await context.abort(grpc.StatusCode.INTERNAL, f"face detector: {exc}")
                raise
        event = outcome.event
        return pb.RetagResponse(
            asset_id=request.asset_id,
            preset=event.preset,
            tags_version=event.tags_version,
            shot_count=len(event.shots),
            review_count=sum(1 for s in event.shots for v in s.values.values() if v.needs_review),
        )

    async def ListPresets(
        self, request: pb.ListPresetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPresetsResponse:
        return pb.ListPresetsResponse(
            presets=[
                pb.PresetInfo(
                    name=name,
                    description=preset.description,
                    fields=list(preset.fields),
                    categories=list(preset.categories),
                    review_below=preset.review_below,
                    is_default=name == self.presets.default,
                )
                for name, preset in sorted(self.presets.presets.items())
            ]
        )
