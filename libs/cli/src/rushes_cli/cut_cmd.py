"""`rushes cut --project P [--script FILE] [--out DIR] [--json]` and `rushes picks presets`.

The picks service assembles the cut (PicksService.AssembleCut) and stores its exports; this
command sends the script, writes the exports into --out and prints the cut.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from rushes.picks.v1 import picks_service_pb2 as pb
from rushes.picks.v1 import picks_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel

from rushes_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, from_rpc_error

MAX_SCRIPT_BYTES = 4 * 1024 * 1024
CUT_TIMEOUT_S = 300.0


def register(subparsers: Any) -> None:
    cut = subparsers.add_parser("cut", help="assemble a project's first cut (OTIO, EDL, FCP XML, FCPX XML)")
    cut.add_argument("--project", required=True)
    cut.add_argument("--script", type=Path, default=None, help="plain text (one line per line) or Fountain")
    cut.add_argument("--out", type=Path, default=None, help="write the exports into DIR")
    cut.add_argument(
        "--preset", default="", help="picks preset (default: the one the takes were scored under)"
    )
    cut.add_argument(
        "--handles", type=float, default=-1.0, help="seconds of handle per side (default: preset's)"
    )
    cut.add_argument(
        "--media-root", default="", help="folder holding the originals (media references point there)"
    )
    cut.add_argument("--json", action="store_true", help="print the cut as JSON")
    cut.set_defaults(handler=run_cut)

    picks = subparsers.add_parser("picks", help="take scoring")
    picks_sub = picks.add_subparsers(dest="picks_command", required=True, metavar="SUBCOMMAND")
    presets = picks_sub.add_parser("presets", help="the picks presets and their draft-acceptance policies")
    presets.add_argument("--json", action="store_true")
    presets.set_defaults(handler=run_presets)


def read_script(path: Path) -> bytes:
    if not path.is_file():
        raise CliError(f"{path}: no such file", EXIT_USAGE)
    if path.stat().st_size > MAX_SCRIPT_BYTES:
        raise CliError(f"{path}: larger than {MAX_SCRIPT_BYTES} bytes", EXIT_USAGE)
    return path.read_bytes()


async def assemble(settings: RushesSettings, request: pb.AssembleCutRequest) -> pb.AssembleCutResponse:
    async with client_channel(settings.picks_address) as channel:
        try:
            response: pb.AssembleCutResponse = await pb_grpc.PicksServiceStub(channel).AssembleCut(
                request, timeout=CUT_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"cut of project {request.project!r}", exc) from None
    return response


def write_exports(out: Path, documents: dict[str, str]) -> list[Path]:
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, body in sorted(documents.items()):
            target = out / Path(name).name  # names come from the service: never let one leave DIR
            target.write_text(body, encoding="utf-8")
            written.append(target)
    except OSError as exc:
        raise CliError(f"cannot write the cut into {out}: {exc.strerror or exc}") from None
    return written


def run_cut(args: argparse.Namespace, settings: RushesSettings) -> int:
    script = read_script(args.script) if args.script is not None else b""
    request = pb.AssembleCutRequest(
        project=args.project,
        script=script,
        script_name=args.script.name if args.script is not None else "",
        preset=args.preset,
        handle_s=args.handles,
        media_root=args.media_root,
    )
    response = asyncio.run(assemble(settings, request))
    written = write_exports(args.out, dict(response.documents)) if args.out is not None else []
    record = json_format.MessageToDict(response.cut)
    if args.json:
        print(
            json.dumps(
                {**record, "exports": dict(response.exports), "written": [str(p) for p in written]}, indent=2
            )
        )
    else:
        print(render_cut(record))
        for path in written:
            print(f"wrote {path}")
    return EXIT_FAILED if response.status == "empty" else EXIT_OK


def render_cut(record: dict[str, Any]) -> str:
    lines = [
        f"cut {record.get('cut_id', '?')} of {record.get('project', '?')}: {record.get('status', '?')}, "
        f"{len(record.get('clips', []))} clips in {record.get('order', '?')} order, "
        f"{float(record.get('duration_s', 0)):.1f} s"
    ]
    lines += [f"  policy: {reason}" for reason in record.get("policy_reasons", [])]
    for number, clip in enumerate(record.get("clips", []), start=1):
        alternates = ", ".join(f"take {int(a['take'])}" for a in clip.get("alternates", []))
        lines.append(
            f"{number:3d}. take {int(clip['take'])} {clip.get('filename', '')} {clip['timecode_in']}-{clip['timecode_out']}"
            f"  score {clip['score']:.2f} conf {clip['confidence']:.2f}"
            f"{'  [review]' if clip.get('needs_review') else ''}"
        )
        lines.append(f"      {'; '.join(clip.get('reasons', []))}")
        if alternates:
            lines.append(f"      alternates: {alternates}")
    lines += [f"  note: {note}" for note in record.get("notes", [])]
    return "\n".join(lines)


def run_presets(args: argparse.Namespace, settings: RushesSettings) -> int:
    async def fetch() -> pb.ListPresetsResponse:
        async with client_channel(settings.picks_address) as channel:
            try:
                response: pb.ListPresetsResponse = await pb_grpc.PicksServiceStub(channel).ListPresets(
                    pb.ListPresetsRequest(), timeout=30
                )
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error("picks presets", exc) from None
        return response

    response = asyncio.run(fetch())
    presets = [json_format.MessageToDict(p) for p in response.presets]
    if args.json:
        print(json.dumps({"default": response.default_preset, "presets": presets}, indent=2))
    else:
        for preset in presets:
            mark = " (default)" if preset.get("name") == response.default_preset else ""
            print(f"{preset.get('name')}{mark}: {preset.get('description', '')}")
    return EXIT_OK
