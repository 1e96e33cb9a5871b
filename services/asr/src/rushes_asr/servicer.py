"""gRPC AsrService: the subtitle profiles cues are built under."""

from __future__ import annotations

import asyncio
import re

import grpc
from google.protobuf import json_format, struct_pb2
from rushes.asr.v1 import asr_service_pb2 as pb
from rushes.asr.v1 import asr_service_pb2_grpc as pb_grpc
from rushes_storage import StorageUnavailable

from rushes_asr import subtitle_files
from rushes_asr.job import AsrJob
from rushes_asr.subtitles import (
    PRESETS,
    ReferenceTranscriptError,
    load_reference_transcript,
    subtitle_profile,
)

SERVICE_NAME = "rushes.asr.v1.AsrService"
_ASSET_ID = re.compile(r"^[0-9a-f]{32}$")


class AsrServicer(pb_grpc.AsrServiceServicer):
    def __init__(self, job: AsrJob) -> None:
        self.job = job

    async def EvaluateSubtitles(
        self, request: pb.EvaluateSubtitlesRequest, context: grpc.aio.ServicerContext
    ) -> pb.EvaluateSubtitlesResponse:
        if not _ASSET_ID.match(request.asset_id):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "asset_id must be the full 32-character id")
        try:
            reference = load_reference_transcript(request.reference)
        except ReferenceTranscriptError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise
        try:
            result = await asyncio.to_thread(self.job.load_result, request.asset_id)
            if result is None or not result.subtitles.srt:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"asset {request.asset_id} has no subtitles")
                raise AssertionError("unreachable")
            srt = await asyncio.to_thread(
                self.job.store.get_bytes, result.subtitles.srt, max_bytes=64 * 1024**2
            )
        except StorageUnavailable as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
            raise
        words = [
            json_format.MessageToDict(w, preserving_proto_field_name=True) for w in result.transcript.words
        ]
        report = await asyncio.to_thread(
            subtitle_files.evaluate,
            words,
            srt.decode("utf-8"),
            reference,
            language=result.transcript.language or "en",
        )
        qc = struct_pb2.Struct()
        qc.update(report)
        return pb.EvaluateSubtitlesResponse(qc=qc)

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
