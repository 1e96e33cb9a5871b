"""The ingest job itself: from a local file to stored objects and an ingest result.

Plain domain logic: it talks to the object store through rushes_storage and to media through
rushes_media, and knows nothing of gRPC or NATS (the servicer and the publisher wrap it).
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import json_format
from rushes.asset.v1 import asset_pb2
from rushes_config import MediaLimits
from rushes_media import MediaRejected, extract_audio_wav, make_poster, make_proxy_and_wav, probe
from rushes_storage import ObjectStore, asset_key

log = logging.getLogger(__name__)

# Written last, after every other object and the event: its presence means "ingest finished".
MANIFEST = "ingest.json"
ASSET_ID_HEX_CHARS = 32


def asset_id_for(sha256_hex: str) -> str:
    """Asset ids are the content hash's prefix: the same bytes always give the same asset."""
    return sha256_hex[:ASSET_ID_HEX_CHARS]


@dataclass
class IngestOutcome:
    asset_id: str
    duplicate: bool
    source: asset_pb2.Source
    technical: asset_pb2.Technical
    objects: dict[str, str] = field(default_factory=dict)
    started_at: float = 0.0
    finished_at: float = 0.0

    def manifest_bytes(self) -> bytes:
        return json.dumps(
            {
                "asset_id": self.asset_id,
                "source": json_format.MessageToDict(self.source, preserving_proto_field_name=True),
                "technical": json_format.MessageToDict(self.technical, preserving_proto_field_name=True),
                "objects": self.objects,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_manifest(cls, data: bytes) -> IngestOutcome:
        doc = json.loads(data)
        return cls(
            asset_id=doc["asset_id"],
            duplicate=True,
            source=json_format.ParseDict(doc["source"], asset_pb2.Source()),
            technical=json_format.ParseDict(
                doc["technical"], asset_pb2.Technical(), ignore_unknown_fields=True
            ),
            objects=dict(doc["objects"]),
            started_at=float(doc.get("started_at", 0.0)),
            finished_at=float(doc.get("finished_at", 0.0)),
        )


def _original_name(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    # The suffix is kept only as a hint for people browsing the bucket; validated names only.
    return "original" + (suffix if suffix.isascii() and suffix[1:].isalnum() and len(suffix) <= 8 else "")


class IngestPipeline:
    """Probe, derive and store one file. Raises MediaRejected for the file's faults and lets
    rushes_storage.StorageUnavailable through for the store's; in both cases nothing is left behind."""

    def __init__(self, store: ObjectStore, limits: MediaLimits, *, work_dir: Path | None = None) -> None:
        self.store = store
        self.limits = limits
        self.work_dir = work_dir

    def existing(self, asset_id: str) -> IngestOutcome | None:
        """The finished ingest of these bytes, if there was one."""
        key = asset_key(asset_id, MANIFEST)
        if self.store.stat(key) is None:
            return None
        return IngestOutcome.from_manifest(self.store.get_bytes(key, max_bytes=4 * 1024 * 1024))

    def probe(self, path: Path) -> asset_pb2.Technical:
        """Probe only (no writes): MediaRejected when the file is not acceptable."""
        return probe(path, self.limits)

    def run(
        self,
        path: Path,
        *,
        filename: str,
        sha256_hex: str,
        technical: asset_pb2.Technical,
        on_progress: Callable[[str], None] | None = None,
    ) -> IngestOutcome:
        started = time.time()
        asset_id = asset_id_for(sha256_hex)
        source = asset_pb2.Source(filename=filename, bytes=path.stat().st_size, sha256=sha256_hex)
        objects: dict[str, str] = {}
        uploaded: list[str] = []
        step = on_progress or (lambda _name: None)
        try:
            with tempfile.TemporaryDirectory(prefix="rushes-ingest-", dir=self.work_dir) as tmp:
                derived = self._derive(path, Path(tmp), technical, step)
                original_key = asset_key(asset_id, _original_name(filename))
                step("upload")
                self.store.put_file(
                    original_key,
                    path,
                    metadata={"filename-hex": filename.encode("utf-8", "replace").hex()},
                    sha256=sha256_hex,
                )
                uploaded.append(original_key)
                objects["original"] = original_key
                for name, (local, object_name, content_type) in derived.items():
                    key = asset_key(asset_id, object_name)
                    self.store.put_file(key, local, content_type=content_type)
                    uploaded.append(key)
                    objects[name] = key
        except BaseException:
            self.discard(uploaded)
            raise
        return IngestOutcome(
            asset_id=asset_id,
            duplicate=False,
            source=source,
            technical=technical,
            objects=objects,
            started_at=started,
            finished_at=time.time(),
        )

    def _derive(
        self, path: Path, tmp: Path, technical: asset_pb2.Technical, step: Callable[[str], None]
    ) -> dict[str, tuple[Path, str, str]]:
        derived: dict[str, tuple[Path, str, str]] = {}
        wav = tmp / "audio.wav"
        # Each source channel apart too (written only for 2-16 channels): lavaliers on separate
        # channels are transcribed per speaker when the project asks for it.
        channels_wav = tmp / "audio_channels.wav"
        if technical.has_video:
            step("proxy")
            # One decode pass makes both the proxy and the ASR audio (the costly part of ingest).
            has_audio = make_proxy_and_wav(
                path, tmp / "proxy.mp4", wav, max_height=720, sample_rate=16000, limits=self.limits,
                channels_wav_path=channels_wav,
            )  # fmt: skip
            derived["proxy"] = (tmp / "proxy.mp4", "proxy.mp4", "video/mp4")
            step("poster")
            make_poster(path, tmp / "poster.jpg", limits=self.limits)
            derived["poster"] = (tmp / "poster.jpg", "poster.jpg", "image/jpeg")
        else:
            step("audio")
            has_audio = extract_audio_wav(
                path, wav, sample_rate=16000, limits=self.limits, channels_wav_path=channels_wav
            )
        if has_audio:
            derived["audio"] = (wav, "audio_16k_mono.wav", "audio/wav")
        if channels_wav.exists():
            derived["audio_channels"] = (channels_wav, "audio_16k_channels.wav", "audio/wav")
        return derived

    def finalize(self, outcome: IngestOutcome) -> None:
        """Mark the ingest finished (after its event is published)."""
        self.store.put_bytes(
            asset_key(outcome.asset_id, MANIFEST), outcome.manifest_bytes(), content_type="application/json"
        )

    def discard(self, keys: list[str]) -> None:
        """Best-effort removal of what a failed ingest wrote; a failure here is logged, not raised."""
        if not keys:
            return
        try:
            self.store.delete(keys)
        except Exception:  # the store may be the reason we are here
            log.warning("could not remove %d partial objects after a failed ingest: %s", len(keys), keys)


__all__ = ["IngestOutcome", "IngestPipeline", "MediaRejected", "asset_id_for"]
