"""What grading keeps in the object store, at deterministic keys.

Per asset, under assets/<id>/grading/ (the service's own view of the asset, so a request needs
no other service, and its outputs):
- ingested.pb / tagged.pb: the events grading saw (technical data, objects, shots);
- <look_id>/graded.pb: the AssetGraded of one grading (a repeated request republishes it);
- <look_id>/shot_NNNN.cube, .cc, _preview.jpg, and reference.jpg.

Per project, under <project folder>/look/ (rushes_storage.project_key): look.json (reference statistics, preset, label)
and reference.jpg, the project's reference look for automatic grading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf.message import Message
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2
from rushes_storage import ObjectStore, asset_key
from rushes_storage import project_key as shared_project_key

from rushes_grading.errors import GradingRefused
from rushes_grading.stats import LookStats

MAX_EVENT_BYTES: Final = 64 * 1024 * 1024
HDR_TRANSFERS: Final = {"smpte2084": "PQ (SMPTE ST 2084)", "arib-std-b67": "HLG (ARIB STD-B67)"}


@dataclass(frozen=True)
class AssetView:
    """What grading knows of one asset."""

    asset_id: str
    project: str
    technical: asset_pb2.Technical
    objects: dict[str, str]
    shots: list[asset_pb2.Shot]  # tagging's shots; one whole-clip shot when untagged
    tagged: bool

    def check_gradable(self) -> None:
        """Refuse assets the matcher cannot handle, saying why (never guess)."""
        if not self.technical.has_video:
            raise GradingRefused(
                "failed_precondition",
                f"asset {self.asset_id} is audio only: nothing to grade",
                code="no_video",
            )
        transfer = self.technical.color_transfer
        if transfer in HDR_TRANSFERS:
            raise GradingRefused(
                "failed_precondition",
                f"asset {self.asset_id} uses the HDR transfer {HDR_TRANSFERS[transfer]}; the matcher grades "
                "SDR (Rec.709 / sRGB) pictures only and does not guess a tone mapping",
                code="hdr_transfer_unsupported",
            )
        if "proxy" not in self.objects:
            raise GradingRefused(
                "failed_precondition", f"asset {self.asset_id} has no proxy to grade from", code="no_proxy"
            )


def project_key(project: str, *parts: str) -> str:
    """Where a project's look lives: <the project's folder>/look/<parts> (rushes_storage.project_key,
    so any project name `rushes ingest --project` accepts can have a reference look)."""
    try:
        return (
            shared_project_key(project, "look", *parts)
            if parts
            else shared_project_key(project, "look") + "/"
        )
    except ValueError as exc:
        raise GradingRefused("invalid_argument", f"invalid project name {project!r}: {exc}") from None


class GradeStore:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    # --- the asset view ---------------------------------------------------------------------------

    def save_event(self, name: str, event: Message) -> None:
        key = asset_key(event.envelope.asset_id, "grading", f"{name}.pb")  # type: ignore[attr-defined]
        self.store.put_bytes(key, event.SerializeToString(), content_type="application/x-protobuf")

    def _load(self, asset_id: str, name: str, message: Message) -> Message | None:
        key = asset_key(asset_id, "grading", f"{name}.pb")
        if self.store.stat(key) is None:
            return None
        message.ParseFromString(self.store.get_bytes(key, max_bytes=MAX_EVENT_BYTES))
        return message

    def load_view(self, asset_id: str) -> AssetView:
        try:
            asset_key(asset_id)
        except ValueError as exc:
            raise GradingRefused("invalid_argument", str(exc)) from None
        ingested = self._load(asset_id, "ingested", events_pb2.AssetIngested())
        if not isinstance(ingested, events_pb2.AssetIngested):
            raise GradingRefused(
                "not_found",
                f"asset {asset_id} is unknown to grading (not ingested, still ingesting, or rejected by ingest)",
            )
        tagged = self._load(asset_id, "tagged", events_pb2.AssetTagged())
        shots = list(tagged.shots) if isinstance(tagged, events_pb2.AssetTagged) and tagged.shots else []
        if not shots:
            technical = ingested.technical
            shots = [
                asset_pb2.Shot(
                    index=0,
                    start_frame=0,
                    end_frame=technical.frame_count,
                    start_s=0.0,
                    end_s=technical.duration_s,
                )
            ]
        return AssetView(
            asset_id=asset_id,
            project=ingested.envelope.project,
            technical=ingested.technical,
            objects=dict(ingested.objects),
            shots=shots,
            tagged=isinstance(tagged, events_pb2.AssetTagged),
        )

    def tags_version(self, asset_id: str) -> int:
        tagged = self._load(asset_id, "tagged", events_pb2.AssetTagged())
        return tagged.tags_version if isinstance(tagged, events_pb2.AssetTagged) else 0

    # --- outputs ----------------------------------------------------------------------------------

    def load_graded(self, asset_id: str, look_id: str) -> events_pb2.AssetGraded | None:
        graded = self._load(asset_id, f"{look_id}/graded", events_pb2.AssetGraded())
        return graded if isinstance(graded, events_pb2.AssetGraded) else None

    def save_graded(self, event: events_pb2.AssetGraded) -> None:
        self.save_event(f"{event.look_id}/graded", event)

    def put_output(self, asset_id: str, look_id: str, name: str, data: bytes, content_type: str) -> str:
        key = asset_key(asset_id, "grading", look_id, name)
        self.store.put_bytes(key, data, content_type=content_type)
        return key

    def get_output(self, asset_id: str, look_id: str, name: str, max_bytes: int) -> bytes | None:
        key = asset_key(asset_id, "grading", look_id, name)
        if self.store.stat(key) is None:
            return None
        return self.store.get_bytes(key, max_bytes=max_bytes)

    # --- project looks ----------------------------------------------------------------------------

    def save_project_look(self, project: str, look: dict[str, Any], reference_jpeg: bytes) -> str:
        self.store.put_bytes(project_key(project, "reference.jpg"), reference_jpeg, content_type="image/jpeg")
        key = project_key(project, "look.json")
        self.store.put_bytes(key, json.dumps(look, sort_keys=True).encode(), content_type="application/json")
        return key

    def load_project_look(self, project: str) -> tuple[dict[str, Any], LookStats] | None:
        if not project:
            return None
        key = project_key(project, "look.json")
        if self.store.stat(key) is None:
            return None
        look = json.loads(self.store.get_bytes(key, max_bytes=MAX_EVENT_BYTES))
        return look, LookStats.from_json(look["stats"])

    def project_reference_jpeg(self, project: str) -> bytes | None:
        key = project_key(project, "reference.jpg")
        return None if self.store.stat(key) is None else self.store.get_bytes(key, max_bytes=MAX_EVENT_BYTES)
