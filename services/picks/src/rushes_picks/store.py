"""What picks keeps in the object store, at deterministic keys.

- assets/<id>/picks/inputs/<kind>.pb: the join state, one object per input that arrived
  (ingested, tagged, transcribed, tagging-failed, asr-failed), so any replica, after any restart,
  sees what has arrived;
- assets/<id>/picks/result.pb: the last AssetPicked (a redelivery republishes it unchanged);
- projects/<slug>/picks/<asset_id>.pb: the same, indexed by project, which is how a cut finds a
  project's assets without the catalog;
- projects/<slug>/cuts/<cut_id>/<file>: a cut's exports.
"""

from __future__ import annotations

from google.protobuf.message import Message
from rushes.events.v1 import events_pb2
from rushes_storage import ObjectStore, asset_key, project_key
from rushes_storage import check_project as shared_check_project
from rushes_storage.keys import check_key

MAX_EVENT_BYTES = 64 * 1024 * 1024
INPUT_KINDS: dict[str, type[Message]] = {
    "ingested": events_pb2.AssetIngested,
    "tagged": events_pb2.AssetTagged,
    "transcribed": events_pb2.AssetTranscribed,
    "tagging-failed": events_pb2.StageFailed,
    "asr-failed": events_pb2.StageFailed,
}


class InvalidProject(ValueError):
    """A project name that cannot name a project (empty, too long, control characters)."""


def check_project(project: str) -> str:
    try:
        return shared_check_project(project)
    except ValueError as exc:
        raise InvalidProject(str(exc)) from None


def project_prefix(project: str) -> str:
    """The project's folder (rushes_storage.project_key): any name maps to one safe folder."""
    check_project(project)
    return project_key(project)


class PicksStore:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    # --- join state ---------------------------------------------------------------------------

    def save_input(self, asset_id: str, kind: str, event: Message) -> None:
        if kind not in INPUT_KINDS:
            raise ValueError(f"unknown picks input kind {kind!r}")
        self.store.put_bytes(
            asset_key(asset_id, "picks", "inputs", f"{kind}.pb"),
            event.SerializeToString(),
            content_type="application/x-protobuf",
        )

    def load_inputs(self, asset_id: str) -> dict[str, Message]:
        """Every input stored for the asset so far, by kind."""
        prefix = asset_key(asset_id, "picks", "inputs") + "/"
        found: dict[str, Message] = {}
        for key in self.store.list_keys(prefix):
            kind = key.removeprefix(prefix).removesuffix(".pb")
            message_class = INPUT_KINDS.get(kind)
            if message_class is None:
                continue
            event = message_class()
            event.ParseFromString(self.store.get_bytes(key, max_bytes=MAX_EVENT_BYTES))
            found[kind] = event
        return found

    # --- results ------------------------------------------------------------------------------

    def load_result(self, asset_id: str) -> events_pb2.AssetPicked | None:
        return self._load_picked(asset_key(asset_id, "picks", "result.pb"))

    def save_result(self, picked: events_pb2.AssetPicked) -> None:
        data = picked.SerializeToString()
        asset_id = picked.envelope.asset_id
        self.store.put_bytes(
            asset_key(asset_id, "picks", "result.pb"), data, content_type="application/x-protobuf"
        )
        if picked.envelope.project:
            key = check_key(project_prefix(picked.envelope.project) + f"picks/{asset_id}.pb")
            self.store.put_bytes(key, data, content_type="application/x-protobuf")

    def project_picks(self, project: str) -> list[events_pb2.AssetPicked]:
        """Every asset of the project that has picks, in asset-id order."""
        prefix = project_prefix(project) + "picks/"
        picks = [
            self._load_picked(key) for key in sorted(self.store.list_keys(prefix)) if key.endswith(".pb")
        ]
        return [p for p in picks if p is not None]

    def save_export(self, project: str, cut_id: str, name: str, body: str, content_type: str) -> str:
        key = check_key(project_prefix(project) + f"cuts/{cut_id}/{name}")
        self.store.put_bytes(key, body.encode("utf-8"), content_type=content_type)
        return key

    def _load_picked(self, key: str) -> events_pb2.AssetPicked | None:
        if self.store.stat(key) is None:
            return None
        picked = events_pb2.AssetPicked()
        picked.ParseFromString(self.store.get_bytes(key, max_bytes=MAX_EVENT_BYTES))
        return picked
