"""`rushes retag ASSET [--preset P] [--json]` and `rushes presets [--json]`."""

from __future__ import annotations

from typing import Any

import grpc
from rushes.tagging.v1 import tagging_service_pb2 as pb
from rushes.tagging.v1 import tagging_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel

from rushes_cli.errors import from_rpc_error
from rushes_cli.records import to_json_dict
from rushes_cli.show_cmd import fetch_record

RETAG_DEADLINE_S = 3600.0


async def retag(settings: RushesSettings, asset_ref: str, preset: str) -> dict[str, Any]:
    asset_id = (await fetch_record(settings, asset_ref))["asset_id"]  # resolves a prefix, NOT_FOUND early
    async with client_channel(settings.tagging_address) as channel:
        try:
            response = await pb_grpc.TaggingServiceStub(channel).Retag(
                pb.RetagRequest(asset_id=asset_id, preset=preset), timeout=RETAG_DEADLINE_S
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"retag {asset_id}", exc) from None
    return to_json_dict(response)


async def presets(settings: RushesSettings) -> list[dict[str, Any]]:
    async with client_channel(settings.tagging_address) as channel:
        try:
            response = await pb_grpc.TaggingServiceStub(channel).ListPresets(
                pb.ListPresetsRequest(), timeout=10
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error("presets", exc) from None
    return [to_json_dict(p) for p in response.presets]
