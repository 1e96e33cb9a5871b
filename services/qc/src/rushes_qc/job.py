"""One QC job: every rendition of an AssetEnhanced fetched, compared with its source, judged,
its report and difference maps stored, and rushes.v1.asset.qc published.

A rendition that cannot be checked (missing from storage, a size or frame-count mismatch, a
truncated file) is a "fail" with the reason in `error`, for review: the job still completes and
announces it. Raises StorageUnavailable / EventBusUnavailable for our faults (retried).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rushes.events.v1 import events_pb2
from rushes_config import MediaLimits
from rushes_events import EventBus, follow_up_envelope, message_id, stage_run
from rushes_inference import InferenceError, ModelUnavailable, TritonClient, detect_faces
from rushes_inference.faces import FACE_DETECTOR_MODEL
from rushes_storage import ObjectNotFound, ObjectStore, asset_key

from rushes_qc import checklog, diffmaps, metrics, report, vmaf
from rushes_qc.compare import AlignmentError, Comparison, RenditionUnreadable, ShotSpan, compare_files
from rushes_qc.identity import FaceSample, identity_metrics
from rushes_qc.presets import Preset, ResolvedRules, get_preset
from rushes_qc.verdict import worst
from rushes_qc.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
STAGE = "qc"
QC_SUBJECT = "rushes.v1.asset.qc"
NO_RENDITIONS = "no_renditions"


class QcJob:
    def __init__(
        self,
        store: ObjectStore,
        bus: EventBus,
        triton: TritonClient | None,
        limits: MediaLimits,
        *,
        preset: Preset | None = None,
        work_dir: Path | None = None,
        face_ready_timeout_s: float = 10.0,
    ) -> None:
        self.store = store
        self.bus = bus
        self.triton = triton
        self.limits = limits
        self.preset = preset or get_preset()
        self.work_dir = work_dir
        self.face_ready_timeout_s = face_ready_timeout_s

    async def run(self, enhanced: events_pb2.AssetEnhanced, *, input_sequence: int = 0) -> events_pb2.AssetQc:
        """QC every rendition of `enhanced`; store, publish and return the AssetQc."""
        asset_id = enhanced.envelope.asset_id
        started = time.time()
        event = events_pb2.AssetQc(
            envelope=follow_up_envelope(QC_SUBJECT, enhanced.envelope, PRODUCER, VERSION),
            input_sequence=input_sequence,
        )
        if not enhanced.renditions:
            event.skipped_reason = enhanced.skipped_reason or NO_RENDITIONS
        else:
            shots = await asyncio.to_thread(self._shots, asset_id)
            for rendition in enhanced.renditions:
                event.renditions.append(await self.check(asset_id, rendition, shots))
        return await self._finish(event, started, _signature(enhanced.renditions, enhanced.skipped_reason))

    async def compare(
        self, cause: events_pb2.Envelope, rendition: events_pb2.Rendition
    ) -> events_pb2.AssetQc:
        """QC of one pair named by the caller (the CompareRendition RPC): recorded against the asset."""
        started = time.time()
        event = events_pb2.AssetQc(envelope=follow_up_envelope(QC_SUBJECT, cause, PRODUCER, VERSION))
        shots = await asyncio.to_thread(self._shots, cause.asset_id)
        event.renditions.append(await self.check(cause.asset_id, rendition, shots))
        return await self._finish(event, started, "compare-" + _signature([rendition], ""))

    async def _finish(self, event: events_pb2.AssetQc, started: float, signature: str) -> events_pb2.AssetQc:
        asset_id = event.envelope.asset_id
        event.verdict = worst([r.verdict for r in event.renditions]) if event.renditions else ""
        event.needs_review = any(r.needs_review for r in event.renditions)
        event.run.CopyFrom(stage_run(STAGE, started, time.time()))
        await asyncio.to_thread(
            self.store.put_bytes,
            _latest_key(asset_id),
            event.SerializeToString(),
            content_type="application/x-protobuf",
        )
        await self.bus.publish(event, msg_id=message_id(asset_id, STAGE, signature))
        metrics.record(event)
        return event

    def has_objects(self, asset_id: str) -> bool:
        """Whether anything of the asset is in the store (an external rendition needs its source)."""
        return bool(self.store.list_keys(asset_key(asset_id)))

    def store_external(self, key: str, path: Path, sha256: str) -> bool:
        """Store an uploaded rendition at its content-addressed key; False when already there."""
        found = self.store.stat(key)
        if found is not None and found.sha256 == sha256:
            return False
        self.store.put_file(key, path, sha256=sha256)
        return True

    def load_latest(self, asset_id: str) -> events_pb2.AssetQc | None:
        """The last QC published for this asset, if any."""
        key = _latest_key(asset_id)
        if self.store.stat(key) is None:
            return None
        event = events_pb2.AssetQc()
        event.ParseFromString(self.store.get_bytes(key, max_bytes=64 * 1024**2))
        return event

    async def check(
        self, asset_id: str, rendition: events_pb2.Rendition, shots: Sequence[ShotSpan]
    ) -> events_pb2.RenditionQc:
        """One rendition against its source; its own faults become a failed RenditionQc. Either
        way its checks go to the QC log."""
        checked_at = time.time()
        judged: list[report.JudgedShot] = []
        try:
            result, judged = await self._check(asset_id, rendition, shots)
        except _Missing as exc:
            result = report.failed_rendition(rendition, self.preset, str(exc))
        except RenditionUnreadable as exc:
            result = report.failed_rendition(rendition, self.preset, f"{exc.which}_unreadable: {exc}")
        except AlignmentError as exc:
            result = report.failed_rendition(rendition, self.preset, f"{exc.code}: {exc}")
        await self._log(asset_id, rendition, checklog.rows_for(result, judged, checked_at))
        return result

    async def _check(
        self, asset_id: str, rendition: events_pb2.Rendition, shots: Sequence[ShotSpan]
    ) -> tuple[events_pb2.RenditionQc, list[report.JudgedShot]]:
        preset = self.preset
        rules = preset.rules(rendition.fix or "generic")
        notes: list[str] = []
        with tempfile.TemporaryDirectory(prefix="rushes-qc-", dir=self.work_dir) as tmp:
            source = await self._fetch(rendition.source_key, Path(tmp) / "source", "source")
            rendered = await self._fetch(rendition.object_key, Path(tmp) / "rendition", "rendition")
            comparison = await asyncio.to_thread(
                compare_files,
                source,
                rendered,
                rules=rules,
                preset=preset,
                limits=self.limits,
                scale=rendition.scale,
                crop_fraction=rendition.crop_fraction,
                shots=shots,
                covered=list(rendition.shot_indices),
            )
            extra = await self._faces(comparison, notes)
            if preset.analysis.vmaf:
                for index, scores in (await self._vmaf(source, rendered, comparison, rules, notes)).items():
                    extra.setdefault(index, {}).update(scores)
        judged = report.judge_comparison(comparison, rules, preset, extra)
        version_dir = _version_dir(rendition)
        fix = rendition.fix or "generic"
        map_keys: dict[int, list[str]] = {}
        for shot in judged:
            for kept in shot.diff_maps:
                key = asset_key(
                    asset_id, "qc", fix, version_dir, f"shot{shot.index}_{kept.metric}_f{kept.frame}.png"
                )
                await asyncio.to_thread(
                    self.store.put_bytes, key, diffmaps.render(kept), content_type="image/png"
                )
                map_keys.setdefault(shot.index, []).append(key)
        report_key = asset_key(asset_id, "qc", fix, f"{version_dir}.json")
        result = report.rendition_qc(
            rendition,
            comparison,
            judged,
            preset=preset,
            notes=notes,
            diff_map_keys=map_keys,
            report_key=report_key,
        )
        body = json.dumps(report.json_report(result, comparison), indent=1).encode()
        await asyncio.to_thread(self.store.put_bytes, report_key, body, content_type="application/json")
        return result, judged

    async def _log(
        self, asset_id: str, rendition: events_pb2.Rendition, rows: list[dict[str, object]]
    ) -> None:
        """The QC log rows of one checked rendition (a re-check of the same rendition replaces them)."""
        body = json.dumps({"rows": rows}, indent=1).encode()
        await asyncio.to_thread(
            self.store.put_bytes, checklog.log_key(asset_id, rendition), body, content_type="application/json"
        )

    def list_checks(self, asset_id: str) -> list[dict[str, object]]:
        """Every QC log row of the asset, oldest first."""
        rows: list[dict[str, object]] = []
        for key in self.store.list_keys(checklog.log_prefix(asset_id)):
            rows.extend(checklog.parse(self.store.get_bytes(key, max_bytes=checklog.MAX_LOG_BYTES), key))
        return checklog.ordered(rows)

    async def _vmaf(
        self, source: Path, rendered: Path, comparison: Comparison, rules: ResolvedRules, notes: list[str]
    ) -> dict[int, dict[str, float]]:
        """VMAF per shot where the geometry allows it; otherwise (or when ffmpeg fails) a note."""
        plan = vmaf.plan_vmaf(comparison, motion_compensate=rules.motion_compensate)
        if isinstance(plan, str):
            notes.append(plan)
            return {}
        try:
            scores = await asyncio.to_thread(vmaf.vmaf_per_frame, source, rendered, plan)
        except vmaf.VmafError as exc:
            notes.append(f"vmaf: not measured ({exc})")
            return {}
        how = " (rendition scaled to the source size, bicubic)" if plan.rescaled else ""
        notes.append(f"vmaf: {vmaf.MODEL} on {len(scores)} frames{how}")
        return vmaf.per_shot(scores, comparison)

    async def _fetch(self, key: str, path: Path, which: str) -> Path:
        if not key:
            raise _Missing(f"{which}_missing: the Rendition names no {which} object key")
        try:
            await asyncio.to_thread(self.store.get_file, key, path, max_bytes=self.limits.max_bytes)
        except ObjectNotFound:
            raise _Missing(f"{which}_missing: object {key} is not in the store") from None
        return path

    async def _faces(self, comparison: Comparison, notes: list[str]) -> dict[int, dict[str, float]]:
        """Identity metrics per shot from the face detector on Triton; a note saying why not when
        it cannot run (never silently skipped)."""
        samples = [(shot.index, s) for shot in comparison.shots for s in shot.face_samples]
        if not samples:
            return {}
        if self.triton is None:
            notes.append("identity: not checked (no Triton configured)")
            return {}
        try:
            await self.triton.wait_model_ready(FACE_DETECTOR_MODEL, timeout_s=self.face_ready_timeout_s)
            found: dict[int, list[FaceSample]] = {}
            model_version = ""
            for shot_index, (frame, s_bgr, r_bgr) in samples:
                source_faces = await detect_faces(self.triton, s_bgr)
                rendition_faces = await detect_faces(self.triton, r_bgr)
                model_version = source_faces.model_version
                found.setdefault(shot_index, []).append(
                    FaceSample(frame, _luma(s_bgr), _luma(r_bgr), source_faces.boxes, rendition_faces.boxes)
                )
        except (ModelUnavailable, InferenceError) as exc:
            notes.append(f"identity: not checked (face detector unavailable: {exc})")
            return {}
        per_shot = {index: identity_metrics(shot_samples) for index, shot_samples in found.items()}
        if not any(per_shot.values()):
            notes.append(
                f"identity: no faces found in the source samples ({FACE_DETECTOR_MODEL} {model_version})"
            )
        else:
            notes.append(
                f"identity: faces by {FACE_DETECTOR_MODEL} {model_version} (boxes only: no landmarks)"
            )
        return per_shot

    def _shots(self, asset_id: str) -> list[ShotSpan]:
        """Tagging's shots (its newest stored version); none: the clip is judged as one shot."""
        prefix = asset_key(asset_id, "tagging") + "/"
        versions = []
        for key in self.store.list_keys(prefix):
            name = key.rsplit("/", 1)[-1]
            if name.startswith("v") and name.endswith(".pb") and name[1:-3].isdigit():
                versions.append(int(name[1:-3]))
        if not versions:
            return []
        tagged = events_pb2.AssetTagged()
        try:
            tagged.ParseFromString(
                self.store.get_bytes(
                    asset_key(asset_id, "tagging", f"v{max(versions)}.pb"), max_bytes=64 * 1024**2
                )
            )
        except (ObjectNotFound, ValueError):
            return []
        return [
            ShotSpan(s.index, s.start_frame, s.end_frame) for s in tagged.shots if s.end_frame > s.start_frame
        ]


class _Missing(Exception):
    """An object the rendition names is not in the store."""


def _luma(bgr):  # type: ignore[no-untyped-def]
    import cv2
    import numpy as np

    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), np.float32)


def _version_dir(rendition: events_pb2.Rendition) -> str:
    """Where a rendition's report and maps go: its version, or (a CompareRendition pair, version 0)
    a name derived from its object key, so two external renditions never overwrite each other."""
    if rendition.version:
        return f"v{rendition.version}"
    return "external-" + hashlib.sha256(rendition.object_key.encode()).hexdigest()[:16]


def _latest_key(asset_id: str) -> str:
    return asset_key(asset_id, "qc", "latest.pb")


def _signature(renditions: Sequence[events_pb2.Rendition], skipped: str) -> str:
    """Input version for the publish's Nats-Msg-Id: the same renditions give the same id."""
    digest = hashlib.sha256(skipped.encode())
    for r in renditions:
        digest.update(f"{r.fix}|{r.object_key}|{r.version}|{r.source_key}|{r.source_sha256}".encode())
    return digest.hexdigest()[:24]
