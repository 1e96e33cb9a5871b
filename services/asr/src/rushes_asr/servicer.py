"""gRPC AsrService: subtitle profiles, QC against a reference or a translation, project speech settings."""

from __future__ import annotations

import asyncio
import re

import grpc
from google.protobuf import json_format, struct_pb2
from rushes.asr.v1 import asr_service_pb2 as pb
from rushes.asr.v1 import asr_service_pb2_grpc as pb_grpc
from rushes_storage import StorageUnavailable, check_project

from rushes_asr import subtitle_files
from rushes_asr.job import AsrJob
from rushes_asr.project_speech import SpeechSettingsError, parse_speech_settings
from rushes_asr.subtitles import (
    PRESETS,
    ReferenceTranscriptError,
    SubtitleInputError,
    load_reference_transcript,
    subtitle_profile,
)

SERVICE_NAME = "rushes.asr.v1.AsrService"
_ASSET_ID = re.compile(r"^[0-9a-f]{32}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


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

    async def EvaluateTranslation(
        self, request: pb.EvaluateTranslationRequest, context: grpc.aio.ServicerContext
    ) -> pb.EvaluateTranslationResponse:
        if not _ASSET_ID.match(request.asset_id):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "asset_id must be the full 32-character id")
        if not _LANGUAGE.match(request.language):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "language must be a language code such as 'fr' or 'pt-BR'"
            )
        try:
            result = await asyncio.to_thread(self.job.load_result, request.asset_id)
            if result is None or not result.subtitles.srt:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"asset {request.asset_id} has no subtitles")
                raise AssertionError("unreachable")
            source = await asyncio.to_thread(
                self.job.store.get_bytes, result.subtitles.srt, max_bytes=64 * 1024**2
            )
            settings = await asyncio.to_thread(self.job.project_settings, result.envelope.project)
        except StorageUnavailable as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
            raise
        try:
            report = await asyncio.to_thread(
                subtitle_files.evaluate_translation,
                source.decode("utf-8"),
                request.translation,
                settings.term_translations(request.language),
                language=request.language,
                profile_name=settings.subtitle_profile,
            )
        except SubtitleInputError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise
        holder = struct_pb2.Struct()
        holder.update(report)
        return pb.EvaluateTranslationResponse(report=holder)

    async def SetProjectSpeech(
        self, request: pb.SetProjectSpeechRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetProjectSpeechResponse:
        try:
            check_project(request.project)
            settings = parse_speech_settings(request.settings)
        except (ValueError, SpeechSettingsError) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise
        try:
            key = await asyncio.to_thread(self.job.save_project_settings, request.project, settings)
        except StorageUnavailable as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
            raise
        return pb.SetProjectSpeechResponse(settings_json=settings.to_json(), object_key=key)

    async def GetProjectSpeech(
        self, request: pb.GetProjectSpeechRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetProjectSpeechResponse:
        try:
            check_project(request.project)
        except ValueError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise
        try:
            stored = await asyncio.to_thread(self.job.has_project_settings, request.project)
            settings = await asyncio.to_thread(self.job.project_settings, request.project)
        except StorageUnavailable as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
            raise
        return pb.GetProjectSpeechResponse(settings_json=settings.to_json(), stored=stored)

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
