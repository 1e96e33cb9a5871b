"""LibraryService over gRPC: a thin mapping from requests to the catalog and from errors to codes."""

from __future__ import annotations

import logging

import grpc
from rushes.library.v1 import library_service_pb2 as pb
from rushes.library.v1 import library_service_pb2_grpc as pb_grpc

from rushes_library.asset_proto import asset_to_proto
from rushes_library.catalog import AssetNotFound, Catalog, InvalidRequest
from rushes_library.database import CatalogUnavailable

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["LibraryService"].full_name


class LibraryServicer(pb_grpc.LibraryServiceServicer):
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def GetAsset(
        self, request: pb.GetAssetRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAssetResponse:
        try:
            record = await self._catalog.get_asset(request.asset_id, include_audit=request.include_audit)
        except AssetNotFound as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        except InvalidRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except CatalogUnavailable as exc:
            log.warning("GetAsset: %s", exc)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "the catalog database is unavailable; retry later"
            )
        return pb.GetAssetResponse(asset=asset_to_proto(record))

    async def ListAssets(
        self, request: pb.ListAssetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAssetsResponse:
        try:
            page = await self._catalog.list_assets(
                project=request.project,
                status=request.status,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        except InvalidRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except CatalogUnavailable as exc:
            log.warning("ListAssets: %s", exc)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "the catalog database is unavailable; retry later"
            )
        return pb.ListAssetsResponse(
            assets=[asset_to_proto(record) for record in page.assets], next_page_token=page.next_page_token
        )


def register(server: grpc.aio.Server, servicer: LibraryServicer) -> None:
    pb_grpc.add_LibraryServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
