"""`rushes enhance ASSET --fix stabilize|denoise|upscale [--fix ...] [--shot N ...] [--json]`.

Asks the enhance service for new rendition versions (EnhanceService.Enhance) and prints what was
stored: object key, model and version, reasons (a classical fallback says so) and measurements.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import grpc
from google.protobuf import json_format
from rushes.enhance.v1 import enhance_service_pb2 as pb
from rushes.enhance.v1 import enhance_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel

from rushes_cli.errors import EXIT_OK, EXIT_USAGE, CliError, from_rpc_error
from rushes_cli.show_cmd import fetch_record

FIXES = ("stabilize", "denoise", "upscale")
# Rendering runs on the CPU locally (learned upscaling takes seconds a frame): allow long clips.
ENHANCE_DEADLINE_S = 3600.0


def register(subparsers: Any) -> None:
    enhance = subparsers.add_parser(
        "enhance", help="stabilize, denoise or upscale an asset (a new rendition)"
    )
    enhance.add_argument("asset", help="asset id (or a unique prefix)")
    enhance.add_argument(
        "--fix", action="append", required=True, help=f"one of {', '.join(FIXES)} (repeatable)"
    )
    enhance.add_argument(
        "--shot", action="append", type=int, default=[], help="shot index (repeatable; default all)"
    )
    enhance.add_argument("--json", action="store_true", help="print the renditions as JSON")
    enhance.set_defaults(handler=run_enhance)


def check_arguments(fixes: list[str], shots: list[int]) -> None:
    unknown = [fix for fix in fixes if fix not in FIXES]
    if unknown:
        raise CliError(
            f"unknown fix {', '.join(map(repr, unknown))}; choose from {', '.join(FIXES)}", EXIT_USAGE
        )
    negative = [shot for shot in shots if shot < 0]
    if negative:
        raise CliError(f"shot indices are 0 or more, got {', '.join(map(str, negative))}", EXIT_USAGE)


async def enhance(
    settings: RushesSettings, asset_ref: str, fixes: list[str], shots: list[int]
) -> pb.EnhanceResponse:
    asset_id = (await fetch_record(settings, asset_ref))["asset_id"]  # resolves a prefix, NOT_FOUND early
    async with client_channel(settings.enhance_address) as channel:
        try:
            response: pb.EnhanceResponse = await pb_grpc.EnhanceServiceStub(channel).Enhance(
                pb.EnhanceRequest(asset_id=asset_id, fixes=fixes, shot_indices=shots),
                timeout=ENHANCE_DEADLINE_S,
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"enhance {asset_id}", exc) from None
    return response


def run_enhance(args: argparse.Namespace, settings: RushesSettings) -> int:
    check_arguments(args.fix, args.shot)
    response = asyncio.run(enhance(settings, args.asset, args.fix, args.shot))
    renditions = [json_format.MessageToDict(r, preserving_proto_field_name=True) for r in response.renditions]
    if args.json:
        print(json.dumps({"asset_id": response.asset_id, "renditions": renditions}, indent=2))
    else:
        print(render_renditions(response.asset_id, renditions))
    return EXIT_OK


def render_renditions(asset_id: str, renditions: list[dict[str, Any]]) -> str:
    lines = [f"{asset_id}: {len(renditions)} rendition{'s' if len(renditions) != 1 else ''}"]
    for r in renditions:
        shots = ", ".join(str(s) for s in r.get("shot_indices", [])) or "all"
        lines.append(
            f"  {r['fix']} v{r.get('version', '?')} -> {r.get('object_key', '')} (shots {shots}; "
            f"{r.get('model_name', '')} {r.get('model_version', '')})"
        )
        lines += [f"    reason: {reason}" for reason in r.get("reasons", [])]
        measurements = ", ".join(f"{k}={v:g}" for k, v in sorted(r.get("measurements", {}).items()))
        if measurements:
            lines.append(f"    {measurements}")
    return "\n".join(lines)
