"""Helpers shared by the rushes_grpc tests."""

from __future__ import annotations

import asyncio

import grpc
from rushes.library.v1 import library_service_pb2 as library_pb2
from rushes.library.v1 import library_service_pb2_grpc as library_grpc

LIBRARY = "rushes.library.v1.LibraryService"


class StubLibrary(library_grpc.LibraryServiceServicer):
    """GetAsset: "slow" sleeps 2 s, "known" answers, anything else is NOT_FOUND; ListAssets crashes."""

    async def GetAsset(
        self, request: library_pb2.GetAssetRequest, context: grpc.aio.ServicerContext
    ) -> library_pb2.GetAssetResponse:
        if request.asset_id == "slow":
            await asyncio.sleep(2)
        if request.asset_id in ("known", "slow") or request.asset_id.startswith("big"):
            response = library_pb2.GetAssetResponse()
            response.asset.asset_id = request.asset_id
            return response
        await context.abort(grpc.StatusCode.NOT_FOUND, f"no asset {request.asset_id!r}")
        raise AssertionError("abort returns only by raising")

    async def ListAssets(
        self, request: library_pb2.ListAssetsRequest, context: grpc.aio.ServicerContext
    ) -> library_pb2.ListAssetsResponse:
        raise RuntimeError("database exploded")
