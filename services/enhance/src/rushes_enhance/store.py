"""What enhance reads and writes in the object store, at deterministic keys under assets/<id>/.

- reads: the proxy (assets/<id>/proxy.mp4, named in ingest's manifest ingest.json) and, for an
  API request, the latest shots tagging stored (assets/<id>/tagging/v<N>.pb);
- writes: renditions at assets/<id>/renditions/<fix>/v<N>.mp4 (N increases, nothing is overwritten)
  and, per tagged event, the AssetEnhanced it produced (assets/<id>/enhance/tags-v<N>.pb) so a
  redelivery republishes the same result instead of rendering again;
- claims: before rendering, a job records the rendition versions it will write
  (assets/<id>/enhance/<job>.claim.json). A redelivery of the same job reuses its claim, so a
  rendition orphaned by a crash between upload and announcement is overwritten at the same version
  instead of pushing the job to the next one (exactly one rendition per fix per tagged event).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from rushes.events.v1 import events_pb2
from rushes_storage import ObjectStore, asset_key

from rushes_enhance.fixes import Fix, SourceUnavailable

_RENDITION_VERSION = re.compile(r"/v(\d+)\.mp4$")
_TAGS_VERSION = re.compile(r"/tagging/v(\d+)\.pb$")
_CLAIM = re.compile(r"/enhance/([^/]+)\.claim\.json$")
MAX_EVENT_BYTES = 64 * 1024 * 1024
MAX_CLAIM_BYTES = 64 * 1024
INGEST_MANIFEST = "ingest.json"


class EnhanceStore:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def proxy_key(self, asset_id: str) -> str:
        """The proxy's key; SourceUnavailable naming why when there is none."""
        manifest_key = asset_key(asset_id, INGEST_MANIFEST)
        if self.store.stat(manifest_key) is not None:
            manifest = json.loads(self.store.get_bytes(manifest_key, max_bytes=4 * 1024 * 1024))
            key = manifest.get("objects", {}).get("proxy")
            if not key:
                raise SourceUnavailable(f"asset {asset_id} has no picture to enhance (audio-only media)")
        else:
            key = asset_key(asset_id, "proxy.mp4")
        if self.store.stat(key) is None:
            raise SourceUnavailable(f"asset {asset_id} has no proxy in storage ({key}): was it ingested?")
        return str(key)

    def claim_versions(self, asset_id: str, job: str, fixes: Sequence[Fix]) -> dict[Fix, int]:
        """The version each fix's rendition gets in `job`: the job's earlier claim when it has one
        covering these fixes, else the next free version of each (past every stored rendition and
        every other job's claim), recorded before any rendering starts."""
        claims = self._claims(asset_id)
        earlier = claims.pop(job, {})
        if all(fix in earlier for fix in fixes):
            return {fix: earlier[fix] for fix in fixes}
        taken: dict[str, set[int]] = {}
        for claim in claims.values():
            for fix, version in claim.items():
                taken.setdefault(fix, set()).add(version)
        versions = {}
        for fix in fixes:
            keys = self.store.list_keys(asset_key(asset_id, "renditions", fix) + "/")
            stored = {int(m.group(1)) for k in keys if (m := _RENDITION_VERSION.search(k))}
            versions[fix] = max(stored | taken.get(fix, set()), default=0) + 1
        self.store.put_bytes(
            _claim_key(asset_id, job),
            json.dumps(versions, sort_keys=True).encode(),
            content_type="application/json",
        )
        return versions

    def release_claim(self, asset_id: str, job: str) -> None:
        """Forget a job's claim (a request that failed: no redelivery will come for it)."""
        self.store.delete([_claim_key(asset_id, job)])

    def _claims(self, asset_id: str) -> dict[str, dict[str, int]]:
        claims = {}
        for key in self.store.list_keys(asset_key(asset_id, "enhance") + "/"):
            if (m := _CLAIM.search(key)) is not None:
                raw = json.loads(self.store.get_bytes(key, max_bytes=MAX_CLAIM_BYTES))
                claims[m.group(1)] = {str(fix): int(version) for fix, version in raw.items()}
        return claims

    def latest_tags(self, asset_id: str) -> events_pb2.AssetTagged | None:
        keys = self.store.list_keys(asset_key(asset_id, "tagging") + "/")
        versions = sorted(int(m.group(1)) for k in keys if (m := _TAGS_VERSION.search(k)))
        if not versions:
            return None
        event = events_pb2.AssetTagged()
        event.ParseFromString(
            self.store.get_bytes(
                asset_key(asset_id, "tagging", f"v{versions[-1]}.pb"), max_bytes=MAX_EVENT_BYTES
            )
        )
        return event

    def load_result(self, asset_id: str, tags_version: int) -> events_pb2.AssetEnhanced | None:
        key = _result_key(asset_id, tags_version)
        if self.store.stat(key) is None:
            return None
        event = events_pb2.AssetEnhanced()
        event.ParseFromString(self.store.get_bytes(key, max_bytes=MAX_EVENT_BYTES))
        return event

    def save_result(self, asset_id: str, tags_version: int, event: events_pb2.AssetEnhanced) -> None:
        self.store.put_bytes(
            _result_key(asset_id, tags_version),
            event.SerializeToString(),
            content_type="application/x-protobuf",
        )


def rendition_key(asset_id: str, fix: Fix, version: int) -> str:
    return asset_key(asset_id, "renditions", fix, f"v{version}.mp4")


def tagged_job(tags_version: int) -> str:
    """The job name of the enhance run for one tagged event (its claim and its stored result)."""
    return f"tags-v{tags_version}"


def _claim_key(asset_id: str, job: str) -> str:
    return asset_key(asset_id, "enhance", f"{job}.claim.json")


def _result_key(asset_id: str, tags_version: int) -> str:
    return asset_key(asset_id, "enhance", f"{tagged_job(tags_version)}.pb")
