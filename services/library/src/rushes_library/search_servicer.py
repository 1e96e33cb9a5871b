"""SearchService over gRPC: a thin mapping from requests to the search engine and errors to codes."""

from __future__ import annotations

import logging

import grpc
from rushes.library.v1 import search_service_pb2 as pb
from rushes.library.v1 import search_service_pb2_grpc as pb_grpc

from rushes_library.catalog import InvalidRequest
from rushes_library.database import CatalogUnavailable
from rushes_library.query_parser import QueryError
from rushes_library.search import Hit, Mode, SearchEngine

log = logging.getLogger(__name__)

SEARCH_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SearchService"].full_name


def hit_to_proto(hit: Hit) -> pb.SearchHit:
    proto = pb.SearchHit(
        asset_id=hit.asset_id,
        start_s=hit.start_s,
        end_s=hit.end_s,
        score=hit.score,
        highlights=hit.highlights,
        keyframe=hit.keyframe,
        poster=hit.poster,
        filename=hit.filename,
        project=hit.project,
    )
    if hit.shot_index is not None:
        proto.shot_index = hit.shot_index
    return proto


class SearchServicer(pb_grpc.SearchServiceServicer):
    def __init__(self, engine: SearchEngine) -> None:
        self._engine = engine

    async def Search(self, request: pb.SearchRequest, context: grpc.aio.ServicerContext) -> pb.SearchResponse:
        try:
            result = await self._engine.search(
                request.query,
                project=request.project,
                limit=request.limit,
                mode=(request.mode or "auto"),  # type: ignore[arg-type]
                facets=request.facets,
            )
        except (QueryError, InvalidRequest) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise
        except CatalogUnavailable as exc:
            log.warning("Search: %s", exc)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "the catalog database is unavailable; retry later"
            )
            raise
        response = pb.SearchResponse(
            hits=[hit_to_proto(h) for h in result.hits],
            kind=result.kind,
            took_s=result.took_s,
            facets_sample=result.facets_sample,
        )
        for name, counts in result.facets.items():
            response.facets[name].counts.update(counts)
        return response

    async def MoreLikeThis(
        self, request: pb.MoreLikeThisRequest, context: grpc.aio.ServicerContext
    ) -> pb.MoreLikeThisResponse:
        try:
            result = await self._engine.more_like_this(
                request.asset_id,
                request.shot_index if request.HasField("shot_index") else None,
                project=request.project,
                limit=request.limit,
            )
        except LookupError as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
            raise
        except InvalidRequest as exc:
            code = (
                grpc.StatusCode.FAILED_PRECONDITION
                if "not embedded" in str(exc)
                else grpc.StatusCode.INVALID_ARGUMENT
            )
            await context.abort(code, str(exc))
            raise
        except CatalogUnavailable as exc:
            log.warning("MoreLikeThis: %s", exc)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "the catalog database is unavailable; retry later"
            )
            raise
        return pb.MoreLikeThisResponse(hits=[hit_to_proto(h) for h in result.hits], took_s=result.took_s)

    async def Autocomplete(
        self, request: pb.AutocompleteRequest, context: grpc.aio.ServicerContext
    ) -> pb.AutocompleteResponse:
        try:
            completions = await self._engine.autocomplete(
                request.prefix, project=request.project, limit=request.limit or 10
            )
        except (QueryError, InvalidRequest) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise
        except CatalogUnavailable as exc:
            log.warning("Autocomplete: %s", exc)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "the catalog database is unavailable; retry later"
            )
            raise
        return pb.AutocompleteResponse(completions=completions)


def register_search(server: grpc.aio.Server, servicer: SearchServicer) -> None:
    pb_grpc.add_SearchServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]


__all__ = ["SEARCH_SERVICE_NAME", "Mode", "SearchServicer", "hit_to_proto", "register_search"]
