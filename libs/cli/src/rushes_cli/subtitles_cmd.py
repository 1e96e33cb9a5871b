"""`rushes subtitles ASSET --format srt|vtt|ttml [--out FILE]` and `rushes subtitles ASSET --qc --json`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from rushes_config import RushesSettings
from rushes_storage import ObjectNotFound, ObjectStore, StorageUnavailable

from rushes_cli.errors import EXIT_UNAVAILABLE, CliError
from rushes_cli.show_cmd import fetch_record

FORMATS = ("srt", "vtt", "ttml")
MAX_SUBTITLE_BYTES = 64 * 1024 * 1024


async def subtitles(settings: RushesSettings, asset_ref: str, *, fmt: str, qc: bool, out: Path | None) -> str:
    record = await fetch_record(settings, asset_ref)
    section = record.get("subtitles") or {}
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
