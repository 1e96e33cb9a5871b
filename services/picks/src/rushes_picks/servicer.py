"""gRPC PicksService: assemble a project's first cut; list the picks presets."""

from __future__ import annotations

import grpc
from google.protobuf import struct_pb2
from rushes.picks.v1 import picks_service_pb2 as pb
from rushes.picks.v1 import picks_service_pb2_grpc as pb_grpc
from rushes_events import EventBusUnavailable
from rushes_storage import StorageUnavailable

from rushes_picks.cut_service import CutAssembler, UnknownProject
from rushes_picks.presets import PresetBook, PresetError
from rushes_picks.script import ScriptError
from rushes_picks.store import InvalidProject

SERVICE_NAME = "rushes.picks.v1.PicksService"
MAX_MEDIA_ROOT_CHARS = 1024


class PicksServicer(pb_grpc.PicksServiceServicer):
    def __init__(self, assembler: CutAssembler, presets: PresetBook) -> None:
        self.assembler = assembler
        self.presets = presets

    async def AssembleCut(
        self, request: pb.AssembleCutRequest, context: grpc.aio.ServicerContext
    ) -> pb.AssembleCutResponse:
        if len(request.media_root) > MAX_MEDIA_ROOT_CHARS or not request.media_root.isprintable():
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "media_root must be a printable folder path"
            )
        try:
            assembled = await self.assembler.assemble(
                request.project,
                script_bytes=request.script,
                script_name=request.script_name,
                preset_name=request.preset,
                handle_s=request.handle_s if request.handle_s >= 0 else None,
                media_root=request.media_root,
            )
        except (InvalidProject, ScriptError, PresetError) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise
        except UnknownProject as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
            raise
        except (StorageUnavailable, EventBusUnavailable) as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
            raise
        cut = struct_pb2.Struct()
        cut.update(assembled.record)
        return pb.AssembleCutResponse(
            cut_id=assembled.cut.cut_id,
            status=assembled.cut.status,
            policy_reasons=assembled.cut.policy_reasons,
            cut=cut,
            documents=assembled.documents,
            exports=assembled.exports,
            notes=assembled.cut.notes,
        )

    async def ListPresets(
        self, request: pb.ListPresetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPresetsResponse:
        presets = []
        for name in sorted(self.presets.presets):
            body = struct_pb2.Struct()
            body.update(self.presets.presets[name].model_dump(mode="json"))
            presets.append(body)
        return pb.ListPresetsResponse(presets=presets, default_preset=self.presets.default)
