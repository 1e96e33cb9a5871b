"""Human verdicts and what they leave behind.

`rushes review list|show|accept|reject|correct`, `rushes audit ASSET`, `rushes feedback export`.
A verdict names the revision of the item the reviewer saw (fetched when not given); the library
refuses it when the item changed meanwhile, so nobody accepts a value they did not look at.
"""

from __future__ import annotations

import argparse
import asyncio
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

from rushes_cli.errors import EXIT_OK, EXIT_USAGE, CliError, from_rpc_error
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


# --- commands ----------------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    review = subparsers.add_parser("review", help="the review queue and human verdicts on AI values")
    review_sub = review.add_subparsers(dest="review_command", required=True, metavar="SUBCOMMAND")

    listing = review_sub.add_parser("list", help="open items, lowest confidence first")
    listing.add_argument("--project", default="")
    listing.add_argument("--kind", default="", help="ai_value, transcript, subtitles, qc, picks ...")
    listing.add_argument("--limit", type=int, default=100, help="1..1000")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)

    show = review_sub.add_parser("show", help="the open items of one asset")
    show.add_argument("asset_id", metavar="ASSET")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)

    for verdict, recorded, help_text in (
        ("accept", "accepted", "the AI value is right"),
        ("reject", "rejected", "the AI value is wrong"),
    ):
        decide = review_sub.add_parser(verdict, help=help_text)
        decide.add_argument("asset_id", metavar="ASSET")
        decide.add_argument("item_id", metavar="ITEM", help="e.g. shots/3/values/shot_type (see review show)")
        decide.add_argument(
            "--revision", default=None, help="the item revision you reviewed (default: current)"
        )
        decide.add_argument("--reviewer", default=None, help="default: $RUSHES_REVIEWER or the login name")
        decide.add_argument("--note", default="")
        decide.add_argument("--json", action="store_true")
        decide.set_defaults(handler=run_decide, verdict=recorded)

    correct_parser = review_sub.add_parser(
        "correct", help="correct one value (recorded with who, when, old and new)"
    )
    correct_parser.add_argument("asset_id", metavar="ASSET")
    correct_parser.add_argument(
        "--shot", type=int, default=-1, help="shot index (default: a clip-level value)"
    )
    correct_parser.add_argument("--field", required=True, help="e.g. shot_type, category, exposure")
    correct_parser.add_argument("--value", required=True, help="the right value (JSON, or a bare word)")
    correct_parser.add_argument(
        "--reviewer", default=None, help="default: $RUSHES_REVIEWER or the login name"
    )
    correct_parser.add_argument("--note", default="")
    correct_parser.add_argument("--expect-version", type=int, default=None, help="tags version you reviewed")
    correct_parser.add_argument("--json", action="store_true")
    correct_parser.set_defaults(handler=run_correct)

    feedback = subparsers.add_parser("feedback", help="feedback data for retraining")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", required=True, metavar="SUBCOMMAND")
    export = feedback_sub.add_parser("export", help="every correction as JSON lines")
    export.add_argument("--project", default="")
    export.add_argument("--out", type=Path, default=None, help="write to FILE instead of stdout")
    export.set_defaults(handler=run_export)

    audit = subparsers.add_parser("audit", help="every event and decision recorded for an asset")
    audit.add_argument("asset_id", metavar="ASSET")
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(handler=run_audit)


async def list_items(
    settings: RushesSettings, *, project: str = "", kind: str = "", asset_id: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    async with client_channel(settings.library_address) as channel:
        try:
            response = await pb_grpc.LibraryServiceStub(channel).ListReviewItems(
                pb.ListReviewItemsRequest(project=project, kind=kind, asset_id=asset_id, limit=limit),
                timeout=30,
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error("review list", exc) from None
    return [_item_json(item) for item in response.items]


def _item_json(item: pb.ReviewItem) -> dict[str, Any]:
    data = to_json_dict(item)
    for name in ("confidence", "start_s", "end_s"):
        data[name] = getattr(item, name) if item.HasField(name) else None
    data.setdefault("shot_index", item.shot_index)
    return data


def _render_items(items: list[dict[str, Any]]) -> str:
    if not items:
        return "the review queue is empty"
    lines = []
    for item in items:
        confidence = "?" if item["confidence"] is None else f"{item['confidence']:.2f}"
        lines.append(
            f"{item['asset_id'][:16]}  {item['item_id']:<28} {json.dumps(item.get('value'))[:40]:<40} "
            f"conf {confidence}  {item.get('model', '')} {item.get('model_version', '')}  rev {item['revision']}"
        )
    return "\n".join(lines)


def run_list(args: argparse.Namespace, settings: RushesSettings) -> int:
    if not 1 <= args.limit <= 1000:
        raise CliError(f"--limit {args.limit} is out of range 1..1000", EXIT_USAGE)
    items = asyncio.run(list_items(settings, project=args.project, kind=args.kind, limit=args.limit))
    print(json.dumps(items, indent=2) if args.json else _render_items(items))
    return EXIT_OK


def run_show(args: argparse.Namespace, settings: RushesSettings) -> int:
    items = asyncio.run(list_items(settings, asset_id=args.asset_id, limit=1000))
    print(json.dumps(items, indent=2) if args.json else _render_items(items))
    return EXIT_OK


async def decide(
    settings: RushesSettings,
    asset_ref: str,
    item_id: str,
    *,
    verdict: str,
    revision: str | None,
    reviewer: str,
    note: str,
) -> dict[str, Any]:
    if revision is None:
        current = [
            i for i in await list_items(settings, asset_id=asset_ref, limit=1000) if i["item_id"] == item_id
        ]
        if not current:
            raise CliError(
                f"{asset_ref} has no open review item {item_id!r} (see `rushes review show {asset_ref}`)"
            )
        revision = str(current[0]["revision"])
    async with client_channel(settings.library_address) as channel:
        try:
            response = await pb_grpc.LibraryServiceStub(channel).DecideReviewItem(
                pb.DecideReviewItemRequest(
                    asset_id=asset_ref, item_id=item_id, verdict=verdict, expected_revision=revision,
                    reviewer=reviewer, note=note,
                ),
                timeout=30,
            )  # fmt: skip
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"review {verdict} {asset_ref} {item_id}", exc) from None
    return {
        "verdict_id": response.verdict_id,
        "verdict": verdict,
        "reviewer": reviewer,
        "item": _item_json(response.item),
    }


def run_decide(args: argparse.Namespace, settings: RushesSettings) -> int:
    result = asyncio.run(
        decide(
            settings, args.asset_id, args.item_id, verdict=args.verdict, revision=args.revision,
            reviewer=args.reviewer or default_reviewer(), note=args.note,
        )
    )  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        item = result["item"]
        print(
            f"{item['asset_id']} {item['item_id']}: {json.dumps(item.get('value'))} {args.verdict} by {result['reviewer']}"
        )
    return EXIT_OK


def run_correct(args: argparse.Namespace, settings: RushesSettings) -> int:
    result = asyncio.run(
        correct(
            settings, args.asset_id, shot=args.shot, field=args.field, value=args.value,
            reviewer=args.reviewer or default_reviewer(), note=args.note, expected_version=args.expect_version,
        )
    )  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        where = f"shot {result['shot_index']}" if result["shot_index"] >= 0 else "clip"
        print(
            f"{result['asset_id']} {where} {result['field']}: {json.dumps(result['old'].get('value'))} -> "
            f"{json.dumps(result['new_value'])} (by {result['reviewer']}, tags v{result['tags_version']})"
        )
    return EXIT_OK


def run_export(args: argparse.Namespace, settings: RushesSettings) -> int:
    count = asyncio.run(export_feedback(settings, project=args.project, out=args.out))
    if args.out:
        print(f"wrote {count} corrections to {args.out}")
    return EXIT_OK


async def audit_trail(settings: RushesSettings, asset_ref: str) -> dict[str, Any]:
    async with client_channel(settings.library_address) as channel:
        try:
            response = await pb_grpc.LibraryServiceStub(channel).GetAuditTrail(
                pb.GetAuditTrailRequest(asset_id=asset_ref), timeout=30
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(f"audit {asset_ref}", exc) from None
    entries = []
    for item in response.entries:
        entry = to_json_dict(item.entry)
        entry["decisions"] = [to_json_dict(d) for d in item.decisions]
        for decision in entry["decisions"]:
            decision.setdefault("shot_index", 0)
            decision.setdefault("confidence", 0.0)
        entries.append(entry)
    return {"asset_id": response.asset_id, "entries": entries}


def run_audit(args: argparse.Namespace, settings: RushesSettings) -> int:
    trail = asyncio.run(audit_trail(settings, args.asset_id))
    if args.json:
        print(json.dumps(trail, indent=2))
        return EXIT_OK
    print(f"audit trail of {trail['asset_id']} ({len(trail['entries'])} entries)")
    for entry in trail["entries"]:
        who = (
            entry.get("principal")
            or f"{entry.get('producer', '')} {entry.get('producer_version', '')}".strip()
        )
        print(
            f"{entry.get('time', '')}  {entry.get('event_type', '').removeprefix('rushes.v1.'):<22} {who:<18} {entry.get('summary', '')}"
        )
        for decision in entry["decisions"][:50]:
            shot = f"shot {decision['shot_index']}" if decision["shot_index"] >= 0 else "clip"
            print(
                f"    {shot:<8} {decision.get('field', ''):<16} {json.dumps(decision.get('value'))[:40]:<40} "
                f"conf {decision['confidence']:.2f}  {decision.get('model', '')} {decision.get('model_version', '')}"
            )
        if len(entry["decisions"]) > 50:
            print(f"    ... {len(entry['decisions']) - 50} more decisions (--json lists them all)")
    return EXIT_OK
