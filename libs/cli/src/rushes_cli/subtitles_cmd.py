"""`rushes subtitles ASSET --format srt|vtt|ttml [--out FILE]` and `rushes subtitles ASSET --qc --json`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import grpc
from google.protobuf import json_format
from rushes.asr.v1 import asr_service_pb2 as pb
from rushes.asr.v1 import asr_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel
from rushes_storage import ObjectNotFound, ObjectStore, StorageUnavailable

from rushes_cli.errors import EXIT_UNAVAILABLE, EXIT_USAGE, CliError, from_rpc_error
from rushes_cli.show_cmd import fetch_record

FORMATS = ("srt", "vtt", "ttml")
MAX_SUBTITLE_BYTES = 64 * 1024 * 1024


MAX_REFERENCE_BYTES = 10 * 1024 * 1024


async def subtitles(
    settings: RushesSettings,
    asset_ref: str,
    *,
    fmt: str,
    qc: bool,
    out: Path | None,
    reference: Path | None = None,
    translation: Path | None = None,
    language: str = "",
) -> str:
    record = await fetch_record(settings, asset_ref)
    section = record.get("subtitles") or {}
    if reference is not None:
        return json.dumps(await _evaluate(settings, record["asset_id"], reference), indent=2)
    if translation is not None:
        if not language:
            raise CliError("--translation needs --language (the translation's language, e.g. fr)", EXIT_USAGE)
        report = await _evaluate_translation(settings, record["asset_id"], translation, language)
        return json.dumps(report, indent=2)
    if qc:
        if not section.get("qc_report") and not section.get("qc"):
            raise CliError(_missing(record))
        return json.dumps(section.get("qc", {}), indent=2)
    key = section.get(fmt)
    if not key:
        raise CliError(_missing(record))
    store = ObjectStore(settings.s3)
    try:
        body = await asyncio.to_thread(store.get_bytes, key, max_bytes=MAX_SUBTITLE_BYTES)
    except ObjectNotFound:
        raise CliError(f"{record['asset_id']}: the {fmt} file {key} is missing from the store") from None
    except StorageUnavailable as exc:
        raise CliError(f"object store unavailable: {exc}", EXIT_UNAVAILABLE) from None
    text = body.decode("utf-8")
    if out is not None:
        out.write_text(text, encoding="utf-8")
        return f"wrote {out}"
    return text


def _missing(record: dict) -> str:
    stage = (record.get("stages") or {}).get("asr", {})
    transcript = record.get("transcript") or {}
    if stage.get("status") == "failed":
        return f"{record['asset_id']}: transcription failed: {stage.get('error', '')}"
    if stage.get("status") != "complete":
        return f"{record['asset_id']}: no subtitles yet (asr stage: {stage.get('status', 'not run')})"
    return f"{record['asset_id']}: no subtitles (no speech{': ' + transcript['text'] if transcript.get('text') else ''})"


async def _evaluate(settings: RushesSettings, asset_id: str, reference: Path) -> dict:
    if not reference.is_file():
        raise CliError(f"{reference}: no such file")
    if reference.stat().st_size > MAX_REFERENCE_BYTES:
        raise CliError(f"{reference}: larger than {MAX_REFERENCE_BYTES} bytes")
    async with client_channel(settings.asr_address) as channel:
        try:
            response = await pb_grpc.AsrServiceStub(channel).EvaluateSubtitles(
                pb.EvaluateSubtitlesRequest(asset_id=asset_id, reference=reference.read_bytes()), timeout=120
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"evaluate {asset_id}", exc) from None
    return json_format.MessageToDict(response.qc)


async def _evaluate_translation(
    settings: RushesSettings, asset_id: str, translation: Path, language: str
) -> dict:
    body = _read_limited(translation, MAX_SUBTITLE_BYTES)
    async with client_channel(settings.asr_address) as channel:
        try:
            response = await pb_grpc.AsrServiceStub(channel).EvaluateTranslation(
                pb.EvaluateTranslationRequest(asset_id=asset_id, translation=body, language=language),
                timeout=120,
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"evaluate the {language} translation of {asset_id}", exc) from None
    return json_format.MessageToDict(response.report)


def _read_limited(path: Path, limit: int) -> bytes:
    if not path.is_file():
        raise CliError(f"{path}: no such file", EXIT_USAGE)
    if path.stat().st_size > limit:
        raise CliError(f"{path}: larger than {limit} bytes")
    return path.read_bytes()
