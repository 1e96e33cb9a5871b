"""`rushes search QUERY [--json] [--project P] [--limit N]`, `rushes similar ASSET [--shot N]`,
`rushes complete PREFIX`: finding footage.

--json prints a list of hits: {asset_id, shot_index (null for an asset-level hit), start_s, end_s,
score, highlights, keyframe, poster, filename, project}. The table shows the keyframe's object key
(the thumbnail) so a script or a person can fetch it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import grpc
from rushes.library.v1 import search_service_pb2 as pb
from rushes.library.v1 import search_service_pb2_grpc as pb_grpc
from rushes_config import RushesSettings
from rushes_grpc import client_channel

from rushes_cli.errors import EXIT_OK, CliError, from_rpc_error

SEARCH_TIMEOUT_S = 30.0


def register(subparsers: Any) -> None:
    search = subparsers.add_parser(
        "search",
        help='find shots: field:value AND/OR/NOT, "phrases", ranges, or plain words',
        description=(
            "Fields: shot_type, category, exposure, sharpness, shakiness, noise, pace, mood, cue, tag, "
            "project, scene, take, camera, lens, location, codec, status, asset, filename, duration, start, "
            "width, height, fps, kelvin, confidence, date, review, transcript, <field>.confidence. "
            'Example: shot_type:close_up AND NOT exposure:over "ask not" duration>5s'
        ),
    )
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--json", action="store_true", help="a JSON list of hits")
    search.add_argument("--project", default="")
    search.add_argument("--limit", type=int, default=20, help="1..500 (default 20)")
    search.add_argument(
        "--mode",
        choices=["auto", "boolean", "keyword"],
        default="auto",
        help="auto: plain words rank by meaning and keywords; boolean: every word must match",
    )
    search.add_argument("--facets", action="store_true", help="also count field values among the matches")
    search.set_defaults(handler=run_search)

    similar = subparsers.add_parser("similar", help="shots like this one (more like this)")
    similar.add_argument("asset_id", metavar="ASSET")
    similar.add_argument("--shot", type=int, default=None, help="shot index (default: the asset itself)")
    similar.add_argument("--json", action="store_true")
    similar.add_argument("--project", default="")
    similar.add_argument("--limit", type=int, default=20)
    similar.set_defaults(handler=run_similar)

    complete = subparsers.add_parser("complete", help="autocomplete a field, field:value or tag")
    complete.add_argument("prefix", metavar="PREFIX")
    complete.add_argument("--project", default="")
    complete.add_argument("--limit", type=int, default=10)
    complete.set_defaults(handler=run_complete)


def hit_json(hit: pb.SearchHit) -> dict[str, Any]:
    return {
        "asset_id": hit.asset_id,
        "shot_index": hit.shot_index if hit.HasField("shot_index") else None,
        "start_s": hit.start_s,
        "end_s": hit.end_s,
        "score": round(hit.score, 6),
        "highlights": list(hit.highlights),
        "keyframe": hit.keyframe,
        "poster": hit.poster,
        "filename": hit.filename,
        "project": hit.project,
    }


def render_table(hits: list[dict[str, Any]]) -> str:
    if not hits:
        return "no matches"
    lines = [f"{'asset':<16} {'shot':>4} {'in':>8} {'out':>8} {'score':>6}  thumbnail / highlights"]
    for hit in hits:
        shot = "-" if hit["shot_index"] is None else str(hit["shot_index"])
        thumb = hit["keyframe"] or hit["poster"] or "(no thumbnail)"
        lines.append(
            f"{hit['asset_id'][:16]:<16} {shot:>4} {_clock(hit['start_s']):>8} {_clock(hit['end_s']):>8} "
            f"{hit['score']:>6.3f}  {thumb}"
        )
        for highlight in hit["highlights"][:3]:
            lines.append(f"{'':<48}  {highlight}")
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}:{secs:05.2f}"


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= 500:
        raise CliError(f"--limit {limit} is out of range 1..500", 2)


async def _search(settings: RushesSettings, request: pb.SearchRequest) -> pb.SearchResponse:
    async with client_channel(settings.library_address) as channel:
        try:
            response: pb.SearchResponse = await pb_grpc.SearchServiceStub(channel).Search(
                request, timeout=SEARCH_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error("search", exc) from None
    return response


def run_search(args: argparse.Namespace, settings: RushesSettings) -> int:
    _check_limit(args.limit)
    request = pb.SearchRequest(
        query=args.query, project=args.project, limit=args.limit, mode=args.mode, facets=args.facets
    )
    response = asyncio.run(_search(settings, request))
    hits = [hit_json(hit) for hit in response.hits]
    if args.json:
        print(json.dumps(hits, indent=2))
        return EXIT_OK
    print(render_table(hits))
    print(f"{len(hits)} hits ({response.kind}, {response.took_s * 1000:.0f} ms)")
    for name, counts in sorted(response.facets.items()):
        shown = ", ".join(
            f"{value} {count}" for value, count in sorted(counts.counts.items(), key=lambda kv: -kv[1])
        )
        print(f"facet {name}: {shown}")
    if response.facets_sample:
        print(f"(facet counts over the first {response.facets_sample} matching shots: a sample, not totals)")
    return EXIT_OK


def run_similar(args: argparse.Namespace, settings: RushesSettings) -> int:
    _check_limit(args.limit)
    if args.shot is not None and args.shot < 0:
        raise CliError(f"--shot {args.shot} is negative", 2)

    async def call() -> pb.MoreLikeThisResponse:
        request = pb.MoreLikeThisRequest(asset_id=args.asset_id, project=args.project, limit=args.limit)
        if args.shot is not None:
            request.shot_index = args.shot
        async with client_channel(settings.library_address) as channel:
            try:
                response: pb.MoreLikeThisResponse = await pb_grpc.SearchServiceStub(channel).MoreLikeThis(
                    request, timeout=SEARCH_TIMEOUT_S
                )
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(f"similar {args.asset_id}", exc) from None
        return response

    hits = [hit_json(hit) for hit in asyncio.run(call()).hits]
    print(json.dumps(hits, indent=2) if args.json else render_table(hits))
    return EXIT_OK


def run_complete(args: argparse.Namespace, settings: RushesSettings) -> int:
    async def call() -> pb.AutocompleteResponse:
        async with client_channel(settings.library_address) as channel:
            try:
                response: pb.AutocompleteResponse = await pb_grpc.SearchServiceStub(channel).Autocomplete(
                    pb.AutocompleteRequest(prefix=args.prefix, project=args.project, limit=args.limit),
                    timeout=SEARCH_TIMEOUT_S,
                )
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error("complete", exc) from None
        return response

    for completion in asyncio.run(call()).completions:
        print(completion)
    return EXIT_OK
