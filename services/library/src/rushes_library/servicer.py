"""LibraryService over gRPC: a thin mapping from requests to the catalog and from errors to codes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2
from rushes.library.v1 import library_service_pb2 as pb
from rushes.library.v1 import library_service_pb2_grpc as pb_grpc
from rushes_events import EventBus, message_id, new_envelope
from rushes_grpc import current_principal
from rushes_metrics import record_review_verdict

from rushes_library.asset_proto import asset_to_proto, audit_to_proto
from rushes_library.audit_trail import Decision
from rushes_library.catalog import REVIEWED, AssetNotFound, Catalog, InvalidRequest
from rushes_library.corrections import CorrectionRefused
from rushes_library.database import CatalogUnavailable
from rushes_library.metadata_desk import AssetMetadata, MetadataDesk
from rushes_library.metadata_edit import MetadataEdit
from rushes_library.review_desk import ReviewDesk, VerdictRecord, metric_output
from rushes_library.tag_suggestions import TagSuggester
from rushes_library.version import library_version

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["LibraryService"].full_name
_REFUSAL_CODES = {
    "invalid": grpc.StatusCode.INVALID_ARGUMENT,
    "not_found": grpc.StatusCode.NOT_FOUND,
    "stale": grpc.StatusCode.FAILED_PRECONDITION,
}


class LibraryServicer(pb_grpc.LibraryServiceServicer):
    def __init__(self, catalog: Catalog, desk: ReviewDesk | None = None) -> None:
        self._catalog = catalog
        self._desk = desk or ReviewDesk(catalog.database)
        self._metadata = MetadataDesk(catalog.database)
        self._suggester = TagSuggester(catalog.database)
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
                principal=current_principal(context),
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
        record_review_verdict(metric_output(correction.field), "corrected")
        await self._announce(correction)
        return pb.CorrectValueResponse(correction=correction)

    async def _announce(self, correction: asset_pb2.Correction, *, verdict: str = "corrected") -> None:
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
        event = events_pb2.AssetReviewed(envelope=envelope, verdict=verdict, correction=correction)
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

    async def ListReviewItems(
        self, request: pb.ListReviewItemsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListReviewItemsResponse:
        try:
            items = await self._desk.list_items(
                project=request.project, kind=request.kind, asset_ref=request.asset_id, limit=request.limit
            )
        except Exception as exc:
            await _abort_for(context, "ListReviewItems", exc)
            raise
        return pb.ListReviewItemsResponse(items=[review_item_to_proto(item) for item in items])

    async def DecideReviewItem(
        self, request: pb.DecideReviewItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideReviewItemResponse:
        try:
            record = await self._desk.decide(
                request.asset_id,
                item_id=request.item_id,
                verdict=request.verdict,
                expected_revision=request.expected_revision,
                reviewer=request.reviewer,
                note=request.note,
                principal=current_principal(context),
            )
        except Exception as exc:
            await _abort_for(context, "DecideReviewItem", exc)
            raise
        await self._announce_verdict(record)
        return pb.DecideReviewItemResponse(
            verdict_id=record.verdict_id, item=review_item_to_proto(record.item.to_json())
        )

    async def GetAuditTrail(
        self, request: pb.GetAuditTrailRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAuditTrailResponse:
        try:
            trail = await self._desk.audit_trail(request.asset_id)
        except Exception as exc:
            await _abort_for(context, "GetAuditTrail", exc)
            raise
        return pb.GetAuditTrailResponse(
            asset_id=trail.asset_id,
            entries=[
                pb.AuditTrailEntry(
                    entry=audit_to_proto(entry), decisions=[decision_to_proto(d) for d in decisions]
                )
                for entry, decisions in trail.entries
            ],
        )

    async def UpdateMetadata(
        self, request: pb.UpdateMetadataRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateMetadataResponse:
        edit = MetadataEdit(
            title=request.title if request.HasField("title") else None,
            description=request.description if request.HasField("description") else None,
            tags=list(request.tags) if request.set_tags else None,
            rights=request.rights if request.HasField("rights") else None,
            licence=request.licence if request.HasField("licence") else None,
            access=request.access if request.HasField("access") else None,
        )
        try:
            update = await self._metadata.update(
                request.asset_id,
                edit,
                expected_record_version=request.expected_record_version,
                editor=request.editor,
                principal=current_principal(context),
                note=request.note,
            )
        except Exception as exc:
            await _abort_for(context, "UpdateMetadata", exc)
            raise
        response = pb.UpdateMetadataResponse(
            metadata=metadata_to_proto(update.metadata), change_id=update.change_id
        )
        for change in update.changes:
            proto = response.changes.add(field=change.field)
            proto.old_value.CopyFrom(_to_value(change.old))
            proto.new_value.CopyFrom(_to_value(change.new))
        return response

    async def GetMetadata(
        self, request: pb.GetMetadataRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetMetadataResponse:
        try:
            metadata = await self._metadata.get(request.asset_id)
        except Exception as exc:
            await _abort_for(context, "GetMetadata", exc)
            raise
        return pb.GetMetadataResponse(metadata=metadata_to_proto(metadata))

    async def SuggestTags(
        self, request: pb.SuggestTagsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SuggestTagsResponse:
        try:
            result = await self._suggester.suggest(
                request.asset_id, request.shot_index, limit=request.limit, neighbours=request.neighbours
            )
        except LookupError as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
            raise
        except Exception as exc:
            await _abort_for(context, "SuggestTags", exc)
            raise
        return pb.SuggestTagsResponse(
            asset_id=result.asset_id,
            shot_index=result.shot_index,
            used_neighbours=result.used_neighbours,
            suggestions=[
                pb.TagSuggestion(tag=s.tag, score=s.score, source=",".join(s.sources), reasons=s.reasons)
                for s in result.suggestions
            ],
        )

    async def _announce_verdict(self, record: VerdictRecord) -> None:
        """asset.reviewed for an accept/reject: the Correction carries the item's old value and,
        when accepted, the same value as the new one (rejected: no new value)."""
        item = record.item
        old = asset_pb2.AiValue(
            confidence=item.confidence or 0.0,
            reasons=item.reasons,
            model=item.model,
            model_version=item.model_version,
            needs_review=True,
        )
        old.value.CopyFrom(_to_value(item.value))
        correction = asset_pb2.Correction(
            correction_id=record.verdict_id,
            asset_id=item.asset_id,
            project=item.project,
            shot_index=item.shot_index,
            field=item.field,
            old=old,
            reviewer=record.reviewer,
            note=record.note,
            keyframe=item.keyframe,
        )
        if record.verdict == "accepted":
            correction.new_value.CopyFrom(old.value)
        correction.corrected_at.FromDatetime(record.decided_at)
        await self._announce(correction, verdict=record.verdict)

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


def review_item_to_proto(item: dict[str, Any]) -> pb.ReviewItem:
    proto = pb.ReviewItem(
        asset_id=item["asset_id"],
        project=item.get("project", ""),
        item_id=item["item_id"],
        kind=item.get("kind", ""),
        revision=item.get("revision", ""),
        shot_index=int(item.get("shot_index", -1)),
        field=item.get("field", ""),
        reasons=[str(r) for r in item.get("reasons") or []],
        model=item.get("model", ""),
        model_version=item.get("model_version", ""),
        keyframe=item.get("keyframe", ""),
    )
    proto.value.CopyFrom(_to_value(item.get("value")))
    for name in ("confidence", "start_s", "end_s"):
        if item.get(name) is not None:
            setattr(proto, name, float(item[name]))
    return proto


def metadata_to_proto(metadata: AssetMetadata) -> pb.AssetMetadata:
    proto = pb.AssetMetadata(
        asset_id=metadata.asset_id,
        project=metadata.project,
        record_version=metadata.record_version,
        title=str(metadata.descriptive.get("title") or ""),
        description=str(metadata.descriptive.get("description") or ""),
        tags=[str(t) for t in metadata.descriptive.get("tags") or []],
        rights=str(metadata.administrative.get("rights") or ""),
        licence=str(metadata.administrative.get("licence") or ""),
        access=str(metadata.administrative.get("access") or "project"),
    )
    proto.structural.update(metadata.structural)
    return proto


def decision_to_proto(decision: Decision) -> pb.AuditDecision:
    proto = pb.AuditDecision(
        stage=decision.stage,
        field=decision.field,
        shot_index=decision.shot_index,
        confidence=decision.confidence,
        reasons=decision.reasons,
        model=decision.model,
        model_version=decision.model_version,
        input_sha256=decision.input_sha256,
    )
    proto.value.CopyFrom(_to_value(decision.value))
    proto.parameters.update(decision.parameters)
    return proto


def _to_value(value: Any) -> struct_pb2.Value:
    holder = struct_pb2.Value()
    json_format.ParseDict(value, holder)
    return holder


async def _abort_for(context: grpc.aio.ServicerContext, method: str, exc: Exception) -> None:
    """The gRPC status for a catalog error; anything unexpected propagates (INTERNAL)."""
    if isinstance(exc, AssetNotFound):
        await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
    if isinstance(exc, InvalidRequest):
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    if isinstance(exc, CorrectionRefused):
        await context.abort(_REFUSAL_CODES[exc.kind], str(exc))
    if isinstance(exc, CatalogUnavailable):
        log.warning("%s: %s", method, exc)
        await context.abort(grpc.StatusCode.UNAVAILABLE, "the catalog database is unavailable; retry later")


def register(server: grpc.aio.Server, servicer: LibraryServicer) -> None:
    pb_grpc.add_LibraryServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
