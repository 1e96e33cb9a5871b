"""LibraryService over gRPC: a thin mapping from requests to the catalog and from errors to codes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2
from rushes.library.v1 import library_service_pb2 as pb
from rushes.library.v1 import library_service_pb2_grpc as pb_grpc
from rushes_events import EventBus, message_id, new_envelope

from rushes_library.asset_proto import asset_to_proto
from rushes_library.catalog import REVIEWED, AssetNotFound, Catalog, InvalidRequest
from rushes_library.corrections import CorrectionRefused
from rushes_library.database import CatalogUnavailable
from rushes_library.version import library_version

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["LibraryService"].full_name
_REFUSAL_CODES = {
    "invalid": grpc.StatusCode.INVALID_ARGUMENT,
    "not_found": grpc.StatusCode.NOT_FOUND,
    "stale": grpc.StatusCode.FAILED_PRECONDITION,
}


class LibraryServicer(pb_grpc.LibraryServiceServicer):
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        # Set once the event bus is connected; verdicts are announced on rushes.v1.asset.reviewed.
        self.bus: EventBus | None = None

    async def CorrectValue(
        self, request: pb.CorrectValueRequest, context: grpc.aio.ServicerContext
    ) -> pb.CorrectValueResponse:
        try:
            correction = await self._catalog.correct_value(
                request.asset_id.strip(),
                shot_index=request.shot_index,
                field=request.field,
                new_value=request.value,
                reviewer=request.reviewer,
                note=request.note,
                expected_tags_version=request.expected_tags_version,
            )
        except (AssetNotFound, InvalidRequest) as exc:
            code = (
                grpc.StatusCode.NOT_FOUND
                if isinstance(exc, AssetNotFound)
                else grpc.StatusCode.INVALID_ARGUMENT
            )
            await context.abort(code, str(exc))
            raise
        except CorrectionRefused as exc:
            await context.abort(_REFUSAL_CODES[exc.kind], str(exc))
            raise
        except CatalogUnavailable as exc:
            log.warning("CorrectValue: %s", exc)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "the catalog database is unavailable; retry later"
            )
            raise
        await self._announce(correction)
        return pb.CorrectValueResponse(correction=correction)

    async def _announce(self, correction: asset_pb2.Correction) -> None:
        if self.bus is None:
            log.warning("correction %s stored but not announced: no event bus yet", correction.correction_id)
            return
        envelope = new_envelope(
            REVIEWED,
            asset_id=correction.asset_id,
            producer="library",
            producer_version=library_version(),
            project=correction.project,
        )
        envelope.id = correction.correction_id  # the audit row already holds this id: no double entry
        event = events_pb2.AssetReviewed(envelope=envelope, verdict="corrected", correction=correction)
        try:
            await self.bus.publish(
                event, msg_id=message_id(correction.asset_id, "review", correction.correction_id)
            )
        except Exception:
            # Stored and audited; subscribers miss this one announcement (logged for the SREs).
            log.warning(
                "correction %s stored but its event was not published",
                correction.correction_id,
                exc_info=True,
            )

    async def ExportFeedback(
        self, request: pb.ExportFeedbackRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ExportFeedbackResponse]:
        try:
            corrections = await self._catalog.list_corrections(project=request.project)
        except CatalogUnavailable as exc:
            log.warning("ExportFeedback: %s", exc)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "the catalog database is unavailable; retry later"
            )
            raise
        for correction in corrections:
            yield pb.ExportFeedbackResponse(correction=correction)

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
