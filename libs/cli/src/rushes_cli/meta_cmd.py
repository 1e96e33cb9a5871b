"""Editing what people know about an asset, and tags worth adding to a shot.

`rushes meta show ASSET`, `rushes meta set ASSET --title T ... [--json]`, `rushes suggest ASSET --shot N`.
An edit names the record version it was made on: given with --expected-version, or read just
before writing (so two people editing at once cannot silently overwrite each other: the second
write is refused and has to re-read).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import grpc
from rushes.library.v1 import library_service_pb2 as pb
from rushes.library.v1 import library_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel

from rushes_cli.errors import EXIT_OK, CliError, from_rpc_error
from rushes_cli.records import to_json_dict
from rushes_cli.review_cmd import default_reviewer


async def get_metadata(settings: RushesSettings, asset_ref: str) -> dict[str, Any]:
    async with client_channel(settings.library_address) as channel:
        try:
            response = await pb_grpc.LibraryServiceStub(channel).GetMetadata(
                pb.GetMetadataRequest(asset_id=asset_ref), timeout=30
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"meta show {asset_ref}", exc) from None
    return to_json_dict(response.metadata)


async def set_metadata(settings: RushesSettings, asset_ref: str, args: argparse.Namespace) -> dict[str, Any]:
    request = pb.UpdateMetadataRequest(
        asset_id=asset_ref, editor=args.editor or default_reviewer(), note=args.note
    )
    for name in ("title", "description", "rights", "licence", "access"):
        value = getattr(args, name)
        if value is not None:
            setattr(request, name, value)
    if args.tag is not None or args.clear_tags:
        request.set_tags = True
        request.tags.extend(args.tag or [])
    if args.expected_version is not None:
        request.expected_record_version = args.expected_version
    else:
        request.expected_record_version = int((await get_metadata(settings, asset_ref))["record_version"])
    async with client_channel(settings.library_address) as channel:
        try:
            response = await pb_grpc.LibraryServiceStub(channel).UpdateMetadata(request, timeout=30)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"meta set {asset_ref}", exc) from None
    return to_json_dict(response)


async def suggest_tags(settings: RushesSettings, asset_ref: str, *, shot: int, limit: int) -> dict[str, Any]:
    async with client_channel(settings.library_address) as channel:
        try:
            response = await pb_grpc.LibraryServiceStub(channel).SuggestTags(
                pb.SuggestTagsRequest(asset_id=asset_ref, shot_index=shot, limit=limit), timeout=30
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"suggest {asset_ref}", exc) from None
    return to_json_dict(response)


def register(subparsers: Any) -> None:
    meta = subparsers.add_parser("meta", help="the descriptive and administrative metadata of an asset")
    meta_sub = meta.add_subparsers(dest="meta_command", required=True, metavar="SUBCOMMAND")

    show = meta_sub.add_parser("show", help="title, description, tags, rights, licence, access, version")
    show.add_argument("asset_id", metavar="ASSET")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)

    edit = meta_sub.add_parser("set", help="change some fields (audited; refused if the record changed)")
    edit.add_argument("asset_id", metavar="ASSET")
    edit.add_argument("--title")
    edit.add_argument("--description")
    edit.add_argument("--rights")
    edit.add_argument("--license", "--licence", dest="licence")
    edit.add_argument("--access", help="public, project, restricted or private")
    edit.add_argument(
        "--tag", action="append", help="a taxonomy tag (repeat; the asset's tags become exactly these)"
    )
    edit.add_argument("--clear-tags", action="store_true", help="remove every tag")
    edit.add_argument(
        "--expected-version", type=int, default=None, help="the record version you read (default: current)"
    )
    edit.add_argument("--editor", default="", help="who edits (default: $RUSHES_REVIEWER or your login)")
    edit.add_argument("--note", default="")
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(handler=run_set)

    suggest = subparsers.add_parser("suggest", help="taxonomy tags worth adding to a shot, with why")
    suggest.add_argument("asset_id", metavar="ASSET")
    suggest.add_argument("--shot", type=int, default=-1, help="shot index (-1: the asset-level row)")
    suggest.add_argument("--limit", type=int, default=10, help="1..50")
    suggest.add_argument("--json", action="store_true")
    suggest.set_defaults(handler=run_suggest)


def run_show(args: argparse.Namespace, settings: RushesSettings) -> int:
    metadata = asyncio.run(get_metadata(settings, args.asset_id))
    print(json.dumps(metadata, indent=2) if args.json else _render(metadata))
    return EXIT_OK


def run_set(args: argparse.Namespace, settings: RushesSettings) -> int:
    if args.tag is not None and args.clear_tags:
        raise CliError("meta set: give --tag or --clear-tags, not both")
    result = asyncio.run(set_metadata(settings, args.asset_id, args))
    if args.json:
        print(json.dumps(result, indent=2))
        return EXIT_OK
    changes = result.get("changes") or []
    if not changes:
        print(
            f"{result['metadata']['asset_id']}: nothing changed (version {result['metadata']['record_version']})"
        )
    for change in changes:
        print(
            f"{change['field']}: {json.dumps(change.get('old_value'))} -> {json.dumps(change.get('new_value'))}"
        )
    if changes:
        print(f"{result['metadata']['asset_id']}: now at version {result['metadata']['record_version']}")
    return EXIT_OK


def run_suggest(args: argparse.Namespace, settings: RushesSettings) -> int:
    result = asyncio.run(suggest_tags(settings, args.asset_id, shot=args.shot, limit=args.limit))
    if args.json:
        print(json.dumps(result["suggestions"], indent=2))
        return EXIT_OK
    if not result["used_neighbours"]:
        print("(shot not embedded yet: suggestions from its own values only)")
    for suggestion in result["suggestions"]:
        print(f"{suggestion['score']:.2f}  {suggestion['tag']:<20} {'; '.join(suggestion['reasons'])}")
    if not result["suggestions"]:
        print("no suggestions")
    return EXIT_OK


def _render(metadata: dict[str, Any]) -> str:
    lines = [f"{metadata['asset_id']} (project {metadata['project']}, version {metadata['record_version']})"]
    for name in ("title", "description", "rights", "licence", "access"):
        lines.append(f"  {name:<12} {metadata.get(name) or '-'}")
    lines.append(f"  {'tags':<12} {', '.join(metadata.get('tags') or []) or '-'}")
    return "\n".join(lines)
