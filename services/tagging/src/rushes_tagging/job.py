"""One tagging job end to end: fetch, scan, detect faces on Triton, decide, store, announce.

Used by both entry points (the asset.ingested consumer and the Retag RPC). Raises MediaRejected
for the asset's own faults (recorded as a per-asset failure), StorageUnavailable /
ModelUnavailable / EventBusUnavailable for ours (retried).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from google.protobuf import struct_pb2
from rushes.events.v1 import events_pb2
from rushes_config import MediaLimits
from rushes_events import EventBus, follow_up_envelope, message_id, stage_run
from rushes_inference import ModelUnavailable, TritonClient, detect_faces
from rushes_media import read_pcm_wav
from rushes_metrics import FOOTAGE_SECONDS_PROCESSED, DistributionRecorder, time_model_call
from rushes_storage import ObjectStore

from rushes_tagging import tagger
from rushes_tagging.analysis import FaceBox, category, faces_from_boxes, shot_type
from rushes_tagging.presets import Preset
from rushes_tagging.tag_store import TagStore
from rushes_tagging.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
STAGE = "tagging"
TAGGED = "rushes.v1.asset.tagged"
MAX_AUDIO_BYTES = 2 * 1024**3
# Drift of the categorical decisions (rushes_metrics.drift): counts, confidences and PSI per field.
DRIFT = {
    "shot_type": DistributionRecorder(shot_type.MODEL, "shot_type", shot_type.SHOT_TYPES),
    "category": DistributionRecorder(category.MODEL, "category", category.CATEGORIES),
    "exposure": DistributionRecorder("rushes.exposure", "exposure", ("ok", "under", "over")),
}


def record_drift(event: events_pb2.AssetTagged) -> None:
    """Feed every shot's watched decisions to their recorders (exposure's category is its verdict)."""
    for shot in event.shots:
        for field, recorder in DRIFT.items():
            if field not in shot.values:
                continue
            decision = shot.values[field]
            label = _category_of(field, decision.value)
            try:
                recorder.record(label, decision.confidence, needs_review=decision.needs_review)
            except ValueError as exc:  # a metric must never fail a job that is already stored
                log.warning("drift metric for %s skipped: %s", field, exc)


def _category_of(field: str, value: struct_pb2.Value) -> str:
    if field != "exposure":
        return value.string_value
    fields = value.struct_value.fields  # read without indexing: a missing key would be inserted
    return fields["verdict"].string_value if "verdict" in fields else ""


@dataclass
class JobOutcome:
    event: events_pb2.AssetTagged
    republished: bool


class TaggingJob:
    def __init__(
        self,
        store: ObjectStore,
        bus: EventBus,
        triton: TritonClient,
        limits: MediaLimits,
        *,
        work_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.tags = TagStore(store)
        self.bus = bus
        self.triton = triton
        self.limits = limits
        self.work_dir = work_dir

    async def run(
        self, ingested: events_pb2.AssetIngested, preset: Preset, version: int, *, trace_id: str | None = None
    ) -> JobOutcome:
        asset_id = ingested.envelope.asset_id
        stored = await asyncio.to_thread(self.tags.load, asset_id, version)
        if stored is not None:
            # A redelivery after the work was stored: announce the same result again (deduplicated).
            await self.bus.publish(stored, msg_id=message_id(asset_id, STAGE, f"v{version}"))
            return JobOutcome(event=stored, republished=True)
        started = time.time()
        with tempfile.TemporaryDirectory(prefix="rushes-tagging-", dir=self.work_dir) as tmp:
            event = await self._tag(ingested, preset, version, Path(tmp), started, trace_id)
        await asyncio.to_thread(self.tags.save, asset_id, version, event)
        await self.bus.publish(event, msg_id=message_id(asset_id, STAGE, f"v{version}"))
        # Outcome counts and durations are the consumer loop's (rushes_events); footage is ours.
        FOOTAGE_SECONDS_PROCESSED.labels(stage=STAGE).inc(ingested.technical.duration_s)
        record_drift(event)
        return JobOutcome(event=event, republished=False)

    async def _tag(
        self,
        ingested: events_pb2.AssetIngested,
        preset: Preset,
        version: int,
        tmp: Path,
        started: float,
        trace_id: str | None,
    ) -> events_pb2.AssetTagged:
        asset_id = ingested.envelope.asset_id
        technical = ingested.technical
        event = events_pb2.AssetTagged(
            envelope=follow_up_envelope(TAGGED, ingested.envelope, PRODUCER, VERSION, trace_id=trace_id),
            preset=preset.name,
            tags_version=version,
        )
        for name, value in tagger.clip_values(technical).items():
            event.values[name].CopyFrom(value)
        if technical.has_video:
            original = tmp / "original"
            await asyncio.to_thread(
                self.store.get_file, ingested.objects["original"], original, max_bytes=self.limits.max_bytes
            )
            scan = await asyncio.to_thread(tagger.scan, original, technical, preset, self.limits)
            faces = await self._faces(scan)
            audio = await self._audio(ingested, tmp)
            shots = await asyncio.to_thread(tagger.finish, scan, preset, faces=faces, audio=audio)
            flags: set[str] = set()
            for tagged in shots:
                key = await asyncio.to_thread(
                    self.tags.put_keyframe, asset_id, version, tagged.shot.index, tagged.keyframe_jpeg
                )
                tagged.shot.keyframe = key
                event.shots.append(tagged.shot)
                flags.update(flag.name for flag in tagged.shot.flags)
            event.flags.extend(sorted(flags))
        event.run.CopyFrom(stage_run(STAGE, started, time.time()))
        return event

    async def _faces(self, scan: tagger.Scan) -> dict[int, dict[int, list[FaceBox]]]:
        """Face boxes on the sampled frames of every shot (Triton; ModelUnavailable propagates)."""
        found: dict[int, dict[int, list[FaceBox]]] = {}
        for shot_index, samples in scan.face_samples.items():
            per_frame: dict[int, list[FaceBox]] = {}
            for frame_index, bgr in samples:
                with time_model_call("face_detector", unavailable=(ModelUnavailable,)):
                    detections = await detect_faces(self.triton, bgr)
                per_frame[frame_index] = faces_from_boxes(
                    detections.boxes, frame_width=bgr.shape[1], frame_height=bgr.shape[0]
                )
            found[shot_index] = per_frame
        return found

    async def _audio(self, ingested: events_pb2.AssetIngested, tmp: Path) -> tuple[np.ndarray, int] | None:
        key = ingested.objects.get("audio")
        if not key:
            return None
        path = tmp / "audio.wav"
        await asyncio.to_thread(self.store.get_file, key, path, max_bytes=MAX_AUDIO_BYTES)
        wav = await asyncio.to_thread(read_pcm_wav, path)
        return wav.samples, wav.sample_rate
