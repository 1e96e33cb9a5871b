"""gRPC AsrService: the subtitle profiles cues are built under."""

from __future__ import annotations

import grpc
from rushes.asr.v1 import asr_service_pb2 as pb
from rushes.asr.v1 import asr_service_pb2_grpc as pb_grpc

from rushes_asr.subtitles import PRESETS, subtitle_profile

SERVICE_NAME = "rushes.asr.v1.AsrService"


class AsrServicer(pb_grpc.AsrServiceServicer):
    async def ListSubtitleProfiles(
        self, request: pb.ListSubtitleProfilesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSubtitleProfilesResponse:
        profiles = [subtitle_profile(name) for name in sorted(PRESETS)]
        return pb.ListSubtitleProfilesResponse(
            profiles=[
                pb.SubtitleProfileInfo(
                    name=p.name,
                    max_chars_per_line=p.max_chars_per_line,
                    max_lines=p.max_lines,
                    max_chars_per_second=p.max_chars_per_second,
                    min_duration_s=p.min_duration_s,
                    max_duration_s=p.max_duration_s,
                    min_gap_frames=p.min_gap_frames,
                    close_gap_frames=p.close_gap_frames,
                )
                for p in profiles
            ]
        )
