"""`rushes speech set --project P FILE` and `rushes speech show --project P`: a project's speech
settings (glossary and translations, initial prompt, language, subtitle profile, per-channel
speakers), validated and stored by the asr service."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import grpc
from rushes.asr.v1 import asr_service_pb2 as pb
from rushes.asr.v1 import asr_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel

from rushes_cli.errors import EXIT_OK, EXIT_USAGE, CliError, from_rpc_error

MAX_SETTINGS_BYTES = 1024 * 1024


def register(subparsers: Any) -> None:
    speech = subparsers.add_parser("speech", help="a project's speech settings (glossary, prompt, speakers)")
    actions = speech.add_subparsers(dest="speech_command", required=True, metavar="SUBCOMMAND")
    put = actions.add_parser("set", help="validate and store a YAML/JSON settings file for a project")
    put.add_argument("--project", required=True)
    put.add_argument("file", type=Path, metavar="FILE")
    put.add_argument("--json", action="store_true")
    put.set_defaults(handler=_set)
    show = actions.add_parser("show", help="a project's speech settings (the defaults when none are set)")
    show.add_argument("--project", required=True)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)


def _set(args: argparse.Namespace, settings: RushesSettings) -> int:
    path: Path = args.file
    if not path.is_file():
        raise CliError(f"{path}: no such file", EXIT_USAGE)
    if path.stat().st_size > MAX_SETTINGS_BYTES:
        raise CliError(f"{path}: larger than {MAX_SETTINGS_BYTES} bytes", EXIT_USAGE)
    request = pb.SetProjectSpeechRequest(project=args.project, settings=path.read_bytes())
    response = asyncio.run(
        _call(settings, "SetProjectSpeech", request, f"set speech settings of {args.project!r}")
    )
    stored = json.loads(response.settings_json)
    if args.json:
        print(
            json.dumps(
                {"project": args.project, "object_key": response.object_key, "settings": stored}, indent=2
            )
        )
    else:
        print(
            f"{args.project}: {len(stored['glossary'])} glossary terms, language {stored['language'] or 'detected'}, "
            f"profile {stored['subtitle_profile']}, channels {stored['channels']} (stored at {response.object_key})"
        )
    return EXIT_OK


def _show(args: argparse.Namespace, settings: RushesSettings) -> int:
    request = pb.GetProjectSpeechRequest(project=args.project)
    response = asyncio.run(
        _call(settings, "GetProjectSpeech", request, f"read speech settings of {args.project!r}")
    )
    stored = json.loads(response.settings_json)
    if args.json:
        print(json.dumps({"project": args.project, "stored": response.stored, "settings": stored}, indent=2))
    else:
        origin = "" if response.stored else " (defaults: none stored)"
        print(f"{args.project}{origin}:\n{json.dumps(stored, indent=2, ensure_ascii=False)}")
    return EXIT_OK


async def _call(settings: RushesSettings, method: str, request: Any, what: str) -> Any:
    async with client_channel(settings.asr_address) as channel:
        try:
            return await getattr(pb_grpc.AsrServiceStub(channel), method)(request, timeout=60)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(what, exc) from None
