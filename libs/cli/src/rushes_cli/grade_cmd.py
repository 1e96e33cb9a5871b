"""`rushes grade match|preview|reference`: look matching, previews and project reference looks.

rushes grade match --reference ASSET@TIME|IMAGE ASSET... [--mode look|continuity] [--json] [--out DIR]
rushes grade preview ASSET [--shot N | --time S] [--look ID] [--side-by-side] [--size PX] -o FILE
rushes grade reference --project P ASSET@TIME|IMAGE
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path
from typing import Any

import grpc
from rushes.grading.v1 import grading_service_pb2 as pb
from rushes.grading.v1 import grading_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel
from rushes_storage import ObjectNotFound, ObjectStore, StorageUnavailable

from rushes_cli.errors import EXIT_OK, EXIT_USAGE, CliError, from_rpc_error
from rushes_cli.records import to_json_dict
from rushes_cli.show_cmd import fetch_record

MATCH_DEADLINE_S = 3600.0
MAX_REFERENCE_BYTES = 64 * 1024 * 1024
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
_FRAME_REF = re.compile(r"^(?P<asset>[0-9a-f]{4,64})@(?P<time>\d+(\.\d+)?)$")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    grade = subparsers.add_parser("grade", help="match shots to a reference look, preview grades")
    sub = grade.add_subparsers(dest="grade_command", required=True, metavar="ACTION")
    match = sub.add_parser("match", help="grade every shot of the assets toward a reference look")
    match.add_argument("--reference", help="ASSET@SECONDS (a frame of an asset) or an image file (PNG/JPEG)")
    match.add_argument("assets", nargs="+", metavar="ASSET")
    match.add_argument("--mode", choices=["look", "continuity"], default="look")
    match.add_argument("--preset", default="", help="grading preset (default: the service's default)")
    match.add_argument("--allow-bit-depth-mismatch", action="store_true")
    match.add_argument("--json", action="store_true", help="print the grade records as JSON")
    match.add_argument("--out", type=Path, help="write each shot's .cube, .cc and preview JPEG here")
    match.set_defaults(handler=_match)
    preview = sub.add_parser("preview", help="a JPEG of one frame with a grade applied")
    preview.add_argument("asset", metavar="ASSET")
    preview.add_argument("--shot", type=int)
    preview.add_argument("--time", type=float)
    preview.add_argument("--look", default="", help="look id of a grading (default: no grade)")
    preview.add_argument("--side-by-side", action="store_true", help="before | after | reference")
    preview.add_argument("--size", type=int, default=0)
    preview.add_argument("--zoom", type=float, default=1.0)
    preview.add_argument("-o", "--output", type=Path, required=True)
    preview.set_defaults(handler=_preview)
    reference = sub.add_parser("reference", help="set the project's reference look (automatic grading)")
    reference.add_argument("--project", required=True)
    reference.add_argument("reference", metavar="ASSET@TIME|IMAGE")
    reference.add_argument("--preset", default="")
    reference.set_defaults(handler=_reference)


async def _asset_id(settings: RushesSettings, ref: str) -> str:
    return str((await fetch_record(settings, ref))["asset_id"])  # resolves a prefix, NOT_FOUND early


async def parse_reference(settings: RushesSettings, text: str) -> pb.Reference:
    """ASSET@SECONDS -> a frame reference; anything else must be a readable image file."""
    found = _FRAME_REF.match(text)
    if found:
        asset_id = await _asset_id(settings, found["asset"])
        return pb.Reference(frame=pb.AssetFrame(asset_id=asset_id, time_s=float(found["time"])))
    path = Path(text)
    if not path.is_file():
        raise CliError(f"reference {text!r} is neither ASSET@SECONDS nor an image file", EXIT_USAGE)
    if path.stat().st_size > MAX_REFERENCE_BYTES:
        raise CliError(f"reference image {path} is larger than {MAX_REFERENCE_BYTES} bytes", EXIT_USAGE)
    return pb.Reference(image=path.read_bytes())


async def match(settings: RushesSettings, args: argparse.Namespace) -> pb.MatchLookResponse:
    reference = await parse_reference(settings, args.reference) if args.reference else pb.Reference()
    asset_ids = [await _asset_id(settings, ref) for ref in args.assets]
    request = pb.MatchLookRequest(
        reference=reference,
        asset_ids=asset_ids,
        mode=args.mode,
        preset=args.preset,
        allow_bit_depth_mismatch=args.allow_bit_depth_mismatch,
    )
    async with client_channel(settings.grading_address) as channel:
        try:
            return await pb_grpc.GradingServiceStub(channel).MatchLook(request, timeout=MATCH_DEADLINE_S)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error("grade match", exc) from None


def write_outputs(settings: RushesSettings, response: pb.MatchLookResponse, out: Path) -> list[Path]:
    """Download every shot's .cube, .cc and preview into `out` as <asset>_shot_NNNN.<ext>."""
    out.mkdir(parents=True, exist_ok=True)
    store = ObjectStore(settings.s3)
    written = []
    for event in response.assets:
        for grade in event.grades:
            for key in (grade.lut, grade.cdl.key, grade.preview):
                if not key:
                    continue
                target = out / f"{event.envelope.asset_id[:12]}_{key.rsplit('/', 1)[-1]}"
                try:
                    target.write_bytes(store.get_bytes(key, max_bytes=MAX_OUTPUT_BYTES))
                except (ObjectNotFound, StorageUnavailable) as exc:
                    raise CliError(f"could not download {key}: {exc}") from None
                written.append(target)
    return written


def _summary(response: pb.MatchLookResponse) -> str:
    lines = []
    for event in response.assets:
        lines.append(f"{event.envelope.asset_id}  look {event.look_id} ({event.mode}, {event.reference})")
        for grade in event.grades:
            state = "REVIEW" if grade.needs_review else "ok"
            lines.append(
                f"  shot {grade.shot_index:>3}  confidence {grade.confidence:.2f} [{state}]  "
                f"dE {grade.delta_e_before:.2f} -> {grade.predicted_delta_e:.2f}  "
                f"exposure {grade.params.exposure_stops:+.2f} EV"
            )
    for step in response.continuity:
        lines.append(
            f"cut {step.from_asset_id[:8]}#{step.from_shot} -> {step.to_asset_id[:8]}#{step.to_shot}: "
            f"dE {step.delta_e_before:.2f} -> {step.delta_e_after:.2f}"
        )
    if response.hero:
        lines.append(f"hero shot: {response.hero}")
    lines.append(f"{response.review_count} grade(s) for review")
    return "\n".join(lines)


def _match(args: argparse.Namespace, settings: RushesSettings) -> int:
    response = asyncio.run(match(settings, args))
    written = write_outputs(settings, response, args.out) if args.out else []
    if args.json:
        print(json.dumps([to_json_dict(event) for event in response.assets], indent=2))
    else:
        print(_summary(response))
        if written:
            print(f"wrote {len(written)} files to {args.out}")
    return EXIT_OK


async def preview(settings: RushesSettings, args: argparse.Namespace) -> pb.PreviewResponse:
    request = pb.PreviewRequest(
        asset_id=await _asset_id(settings, args.asset),
        look_id=args.look,
        zoom=args.zoom,
        size=args.size,
        layout="side_by_side" if args.side_by_side else "after",
    )
    if args.shot is not None:
        request.shot_index = args.shot
    if args.time is not None:
        request.time_s = args.time
    async with client_channel(settings.grading_address) as channel:
        try:
            return await pb_grpc.GradingServiceStub(channel).Preview(request, timeout=60)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error("grade preview", exc) from None


def _preview(args: argparse.Namespace, settings: RushesSettings) -> int:
    response = asyncio.run(preview(settings, args))
    args.output.write_bytes(response.jpeg)
    print(f"wrote {args.output} ({response.width}x{response.height}, t={response.time_s:.3f} s)")
    return EXIT_OK


async def set_reference(settings: RushesSettings, args: argparse.Namespace) -> dict[str, Any]:
    reference = await parse_reference(settings, args.reference)
    request = pb.SetProjectReferenceRequest(project=args.project, reference=reference, preset=args.preset)
    async with client_channel(settings.grading_address) as channel:
        try:
            response = await pb_grpc.GradingServiceStub(channel).SetProjectReference(request, timeout=300)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error("grade reference", exc) from None
    return to_json_dict(response)


def _reference(args: argparse.Namespace, settings: RushesSettings) -> int:
    result = asyncio.run(set_reference(settings, args))
    print(f"project {result['project']}: reference look {result['reference']} stored at {result['key']}")
    return EXIT_OK
