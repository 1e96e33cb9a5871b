"""What tagging keeps in the object store, at deterministic keys under assets/<id>/tagging/.

- input.pb: the AssetIngested event tagging first saw (so a retag needs no other service);
- v<N>.pb: the AssetTagged event of tags version N (a redelivered job republishes it unchanged);
- keyframes under assets/<id>/keyframes/v<N>/shot_<index>.jpg.
"""

from __future__ import annotations

import re

from rushes.events.v1 import events_pb2
from rushes_storage import ObjectStore, asset_key

_VERSION = re.compile(r"/tagging/v(\d+)\.pb$")
MAX_EVENT_BYTES = 64 * 1024 * 1024


class TagStore:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def save_input(self, event: events_pb2.AssetIngested) -> None:
        key = asset_key(event.envelope.asset_id, "tagging", "input.pb")
        self.store.put_bytes(key, event.SerializeToString(), content_type="application/x-protobuf")

    def load_input(self, asset_id: str) -> events_pb2.AssetIngested | None:
        key = asset_key(asset_id, "tagging", "input.pb")
        if self.store.stat(key) is None:
            return None
        event = events_pb2.AssetIngested()
        event.ParseFromString(self.store.get_bytes(key, max_bytes=MAX_EVENT_BYTES))
        return event

    def versions(self, asset_id: str) -> list[int]:
        keys = self.store.list_keys(asset_key(asset_id, "tagging") + "/")
        return sorted(int(m.group(1)) for k in keys if (m := _VERSION.search(k)))

    def load(self, asset_id: str, version: int) -> events_pb2.AssetTagged | None:
        key = asset_key(asset_id, "tagging", f"v{version}.pb")
        if self.store.stat(key) is None:
            return None
        event = events_pb2.AssetTagged()
        event.ParseFromString(self.store.get_bytes(key, max_bytes=MAX_EVENT_BYTES))
        return event

    def save(self, asset_id: str, version: int, event: events_pb2.AssetTagged) -> None:
        key = asset_key(asset_id, "tagging", f"v{version}.pb")
        self.store.put_bytes(key, event.SerializeToString(), content_type="application/x-protobuf")

    def put_keyframe(self, asset_id: str, version: int, shot_index: int, jpeg: bytes) -> str:
        key = asset_key(asset_id, "keyframes", f"v{version}", f"shot_{shot_index:04d}.jpg")
        self.store.put_bytes(key, jpeg, content_type="image/jpeg")
        return key
