"""One enhance job: proxy -> each fix rendered (streaming) -> stored as a new version -> announced.

Two entry points share it: a rushes.v1.asset.tagged event (the fixes tagging flagged, on the shots
that carry each flag) and an API request (named fixes, optional shots). Raises SourceUnavailable /
EnhanceRequestError / MediaRejected for the asset's or the request's faults, StorageUnavailable /
ModelUnavailable / EventBusUnavailable for ours (retried by the consumer). Nothing half-written: a
failed job removes the renditions it had uploaded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rushes.events.v1 import events_pb2
from rushes_config import MediaLimits
from rushes_events import EventBus, follow_up_envelope, message_id, new_envelope, stage_run
from rushes_media import probe
from rushes_storage import ObjectStore, sha256_file

from rushes_enhance import metrics as enhance_metrics
from rushes_enhance.fixes import FLAG_TO_FIX, EnhanceRequestError, Fix
from rushes_enhance.model_client import TritonUpscaler
from rushes_enhance.renderer import LearnedUpscaler, RenderResult, render
from rushes_enhance.settings import EnhanceSettings
from rushes_enhance.shots import ShotPlan, ShotSpan
from rushes_enhance.store import EnhanceStore, rendition_key, tagged_job
from rushes_enhance.version import PRODUCER, VERSION

log = logging.getLogger(__name__)
STAGE = "enhance"
ENHANCED = "rushes.v1.asset.enhanced"
NO_FLAGS = "no_flags"


@dataclass(frozen=True)
class FixOrder:
    fix: Fix
    shot_indices: tuple[int, ...]  # empty: the whole clip


def orders_from_tags(tagged: events_pb2.AssetTagged) -> list[FixOrder]:
    """The fixes tagging's flags ask for, each on the shots that raised it (all shots: whole clip)."""
    orders = []
    for flag, fix in FLAG_TO_FIX.items():
        flagged = tuple(shot.index for shot in tagged.shots if any(f.name == flag for f in shot.flags))
        if not flagged and flag not in tagged.flags:
            continue
        whole = not flagged or len(flagged) == len(tagged.shots)
        orders.append(FixOrder(fix, () if whole else flagged))
    return orders


def shot_spans(tagged: events_pb2.AssetTagged | None) -> list[ShotSpan]:
    if tagged is None:
        return []
    return [ShotSpan(shot.index, shot.start_s, shot.end_s) for shot in tagged.shots]


class EnhanceJob:
    def __init__(
        self,
        store: ObjectStore,
        bus: EventBus,
        settings: EnhanceSettings,
        limits: MediaLimits,
        *,
        upscaler: TritonUpscaler | None,
        work_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.files = EnhanceStore(store)
        self.bus = bus
        self.settings = settings
        self.limits = limits
        self.upscaler = upscaler
        self.work_dir = work_dir

    async def on_tagged(self, tagged: events_pb2.AssetTagged) -> events_pb2.AssetEnhanced:
        asset_id = tagged.envelope.asset_id
        job = tagged_job(tagged.tags_version)
        msg_id = message_id(asset_id, STAGE, job)
        stored = await asyncio.to_thread(self.files.load_result, asset_id, tagged.tags_version)
        if stored is not None:
            # A redelivery after the work was stored: announce the same result again (deduplicated).
            await self.bus.publish(stored, msg_id=msg_id)
            return stored
        envelope = follow_up_envelope(ENHANCED, tagged.envelope, PRODUCER, VERSION)
        orders = orders_from_tags(tagged)
        if not orders:
            started = time.time()
            event = events_pb2.AssetEnhanced(envelope=envelope, skipped_reason=NO_FLAGS)
            event.run.CopyFrom(stage_run(STAGE, started, time.time()))
        else:
            versions = await asyncio.to_thread(
                self.files.claim_versions, asset_id, job, [order.fix for order in orders]
            )
            event = await self._render(asset_id, orders, versions, shot_spans(tagged), envelope)
        await asyncio.to_thread(self.files.save_result, asset_id, tagged.tags_version, event)
        await self.bus.publish(event, msg_id=msg_id)
        return event

    async def on_request(
        self, asset_id: str, fixes: Sequence[Fix], shot_indices: Sequence[int], *, trace_id: str | None = None,
        project: str = "",
    ) -> events_pb2.AssetEnhanced:  # fmt: skip
        tagged = await asyncio.to_thread(self.files.latest_tags, asset_id)
        spans = shot_spans(tagged)
        if shot_indices:
            known = {span.index for span in spans}
            unknown = sorted(set(shot_indices) - known)
            if unknown:
                raise EnhanceRequestError(
                    f"asset {asset_id} has no shot {', '.join(map(str, unknown))} "
                    f"(tagging found {len(known)} shot{'s' if len(known) != 1 else ''})"
                )
        envelope = new_envelope(
            ENHANCED, asset_id=asset_id, producer=PRODUCER, producer_version=VERSION,
            project=project or (tagged.envelope.project if tagged else ""), trace_id=trace_id,
        )  # fmt: skip
        orders = [FixOrder(fix, tuple(sorted(set(shot_indices)))) for fix in dict.fromkeys(fixes)]
        job = f"request-{uuid.uuid4().hex}"
        versions = await asyncio.to_thread(self.files.claim_versions, asset_id, job, [o.fix for o in orders])
        try:
            event = await self._render(asset_id, orders, versions, spans, envelope)
        except BaseException:
            await self._release(asset_id, job)
            raise
        written = "+".join(f"{r.fix}-v{r.version}" for r in event.renditions)
        await self.bus.publish(event, msg_id=message_id(asset_id, STAGE, written))
        return event

    async def _render(
        self, asset_id: str, orders: list[FixOrder], versions: dict[Fix, int], spans: list[ShotSpan],
        envelope: events_pb2.Envelope,
    ) -> events_pb2.AssetEnhanced:  # fmt: skip
        started = time.time()
        proxy_key = await asyncio.to_thread(self.files.proxy_key, asset_id)
        event = events_pb2.AssetEnhanced(envelope=envelope)
        uploaded: list[str] = []
        try:
            with tempfile.TemporaryDirectory(prefix="rushes-enhance-", dir=self.work_dir) as tmp:
                proxy = Path(tmp) / "proxy.mp4"
                await asyncio.to_thread(
                    self.store.get_file, proxy_key, proxy, max_bytes=self.settings.max_source_bytes
                )
                source_sha = await asyncio.to_thread(sha256_file, proxy)
                for order in orders:
                    learned, why_not = await self._learned(order.fix, proxy)
                    out = Path(tmp) / f"{order.fix}.mp4"
                    plan = ShotPlan(spans, order.shot_indices)
                    fix_started = time.monotonic()
                    result = await asyncio.to_thread(
                        render, order.fix, proxy, out, plan, self.settings, self.limits,
                        learned=learned, fallback_reason=why_not,
                    )  # fmt: skip
                    version = versions[order.fix]
                    key = rendition_key(asset_id, order.fix, version)
                    await asyncio.to_thread(self.store.put_file, key, out, content_type="video/mp4")
                    uploaded.append(key)
                    event.renditions.append(_rendition(result, order, key, proxy_key, source_sha, version))
                    enhance_metrics.record(result, time.monotonic() - fix_started)
                    log.info("asset %s: %s v%d (%s) %s", asset_id, order.fix, version, result.model_name,
                             json.dumps(result.measurements))  # fmt: skip
        except BaseException:
            await self._discard(uploaded)
            raise
        event.run.CopyFrom(stage_run(STAGE, started, time.time()))
        return event

    async def _learned(self, fix: Fix, source: Path) -> tuple[LearnedUpscaler | None, str]:
        if fix != "upscale":
            return None, ""
        if self.upscaler is None:
            return None, "no Triton upscaler configured"
        technical = await asyncio.to_thread(probe, source, self.limits)
        cap = self.settings.upscale_model_max_pixels
        if technical.width * technical.height > cap:
            # Known before asking Triton: no wait for a model this frame size will not be sent to.
            return None, (
                f"frame {technical.width}x{technical.height} is over the learned model's cap of {cap} pixels "
                "on this deployment (RUSHES_ENHANCE_UPSCALE_MODEL_MAX_PIXELS)"
            )
        return await self.upscaler.prepare()

    async def _release(self, asset_id: str, job: str) -> None:
        try:
            await asyncio.to_thread(self.files.release_claim, asset_id, job)
        except Exception:  # a leftover claim only skips a version number
            log.warning("could not release the version claim of %s on asset %s", job, asset_id)

    async def _discard(self, keys: list[str]) -> None:
        if not keys:
            return
        try:
            await asyncio.to_thread(self.store.delete, keys)
        except Exception:  # the store may be why we are here
            log.warning("could not remove %d renditions after a failed job: %s", len(keys), keys)


def _rendition(
    result: RenderResult, order: FixOrder, key: str, source_key: str, source_sha: str, version: int
) -> events_pb2.Rendition:
    rendition = events_pb2.Rendition(
        fix=result.fix,
        object_key=key,
        source_key=source_key,
        source_sha256=source_sha,
        version=version,
        shot_indices=list(order.shot_indices),
        parameters_json=json.dumps(result.parameters, sort_keys=True),
        model_name=result.model_name,
        model_version=result.model_version,
        reasons=result.reasons,
        confidence=result.confidence,
        scale=result.scale,
        crop_fraction=result.crop_fraction,
    )
    for name, value in result.measurements.items():
        rendition.measurements[name] = float(value)
    return rendition
