"""`rushes review correct ...` and `rushes feedback export ...`: human verdicts and the feedback data."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from rushes.library.v1 import library_service_pb2 as pb
from rushes.library.v1 import library_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel

from rushes_cli.errors import from_rpc_error
from rushes_cli.records import to_json_dict
from rushes_cli.show_cmd import fetch_record


def default_reviewer() -> str:
    return os.environ.get("RUSHES_REVIEWER") or getpass.getuser()


def parse_value(text: str) -> struct_pb2.Value:
    """JSON when it parses (numbers, objects, lists, quoted strings), else the bare word as a string."""
    try:
        parsed: Any = json.loads(text)
    except json.JSONDecodeError:
        parsed = text
    holder = struct_pb2.Struct()
    holder.update({"v": parsed})
    return holder.fields["v"]


async def correct(
    settings: RushesSettings,
    asset_ref: str,
    *,
    shot: int,
    field: str,
    value: str,
    reviewer: str,
    note: str,
    expected_version: int | None,
) -> dict[str, Any]:
    if expected_version is None:
        # What the reviewer is looking at now; the server refuses if it changes before we write.
        expected_version = int((await fetch_record(settings, asset_ref)).get("tags_version", 0))
    async with client_channel(settings.library_address) as channel:
        try:
            response = await pb_grpc.LibraryServiceStub(channel).CorrectValue(
                pb.CorrectValueRequest(
                    asset_id=asset_ref,
                    shot_index=shot,
                    field=field,
                    value=parse_value(value),
                    reviewer=reviewer,
                    expected_tags_version=expected_version,
                    note=note,
                ),
                timeout=30,
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"correct {asset_ref}", exc) from None
    return to_json_dict(response.correction)


async def export_feedback(settings: RushesSettings, *, project: str, out: Path | None) -> int:
    count = 0
    async with client_channel(settings.library_address) as channel:
        stream = pb_grpc.LibraryServiceStub(channel).ExportFeedback(
            pb.ExportFeedbackRequest(project=project), timeout=600
        )
        target = out.open("w", encoding="utf-8") if out else sys.stdout
        try:
            async for item in stream:
                target.write(json.dumps(to_json_dict(item.correction), sort_keys=True) + "\n")
                count += 1
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error("feedback export", exc) from None
        finally:
            if out:
                target.close()
    return count
