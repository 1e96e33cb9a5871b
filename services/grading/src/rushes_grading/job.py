"""Grading jobs end to end: resolve the reference, sample shots, match, store outputs, announce.

Used by the gRPC servicer (MatchLook, Preview, project references) and the asset.tagged consumer
(automatic grading toward a project's reference look). Raises GradingRefused for the caller's or
the asset's faults, MediaRejected for media that fails rushes_media's guards, StorageUnavailable
and EventBusUnavailable for ours.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2
from rushes_config import MediaLimits
from rushes_events import EventBus, follow_up_envelope, message_id, new_envelope, stage_run
from rushes_storage import ObjectStore

from rushes_grading import cdl, lut, matcher, render, stats
from rushes_grading.convert import params_from_proto, params_to_proto
from rushes_grading.errors import GradingRefused
from rushes_grading.frames import decode_image, fit_size, frames_at
from rushes_grading.matcher import Mode
from rushes_grading.presets import GradingPreset, get_preset
from rushes_grading.stats import LookStats
from rushes_grading.store import MAX_EVENT_BYTES, AssetView, GradeStore
from rushes_grading.transform import IDENTITY, GradeParams
from rushes_grading.version import MODEL, MODEL_VERSION, PRODUCER, VERSION

STAGE: Final = "grading"
GRADED: Final = "rushes.v1.asset.graded"
ANALYSIS_SIDE: Final = 480  # longest side of the frames statistics are taken on
THUMBNAIL_SIDE: Final = 480
PROXY_CACHE: Final = 4  # proxies kept on local disk for previews
FRAME_CACHE: Final = 16  # decoded frames kept for interactive previews
MAX_PREVIEW_SIDE: Final = 4096
MIN_PREVIEW_SIDE: Final = 16
LAYOUTS: Final = ("after", "side_by_side")


@dataclass(frozen=True)
class ReferenceLook:
    label: str  # "asset:<id>@<seconds>", "image:<sha256>", "shot:<id>#<index>", "project:<p>"
    stats: LookStats
    thumbnail: np.ndarray | None  # RGB, for side-by-side previews
    bit_depth: int


@dataclass
class ShotSamples:
    view: AssetView
    shot: asset_pb2.Shot
    frames: list[np.ndarray]
    pixels: np.ndarray
    stats: LookStats


@dataclass
class MatchResult:
    assets: list[events_pb2.AssetGraded]
    continuity: list[events_pb2.AssetGraded.ContinuityStep]
    hero: str


def _high_bit_depth(bits: int) -> bool:
    return bits > 8


def shot_times(shot: asset_pb2.Shot, count: int) -> list[float]:
    """`count` times spread over the shot's middle (cuts and fades stay out of the statistics)."""
    length = max(shot.end_s - shot.start_s, 0.0)
    return [shot.start_s + length * (0.1 + 0.8 * (k + 0.5) / count) for k in range(count)]


class GradingJob:
    def __init__(
        self, store: ObjectStore, bus: EventBus, limits: MediaLimits, *, work_dir: Path | None = None
    ) -> None:
        self.store = store
        self.grades = GradeStore(store)
        self.bus = bus
        self.limits = limits
        self._work = tempfile.TemporaryDirectory(prefix="rushes-grading-", dir=work_dir)
        self._proxies: OrderedDict[str, Path] = OrderedDict()
        self._frames: OrderedDict[tuple[str, float], tuple[np.ndarray, float]] = OrderedDict()

    def close(self) -> None:
        self._work.cleanup()

    # --- media --------------------------------------------------------------------------------------

    def proxy_path(self, view: AssetView) -> Path:
        """The asset's proxy on local disk (downloaded once, a few kept for previews)."""
        cached = self._proxies.get(view.asset_id)
        if cached is not None and cached.exists():
            self._proxies.move_to_end(view.asset_id)
            return cached
        path = Path(self._work.name) / f"{view.asset_id}.proxy"
        self.store.get_file(view.objects["proxy"], path, max_bytes=self.limits.max_bytes)
        self._proxies[view.asset_id] = path
        while len(self._proxies) > PROXY_CACHE:
            _, old = self._proxies.popitem(last=False)
            old.unlink(missing_ok=True)
        return path

    def frame(self, view: AssetView, time_s: float) -> tuple[np.ndarray, float]:
        """(full-size RGB frame at time_s, duration), cached for interactive previews."""
        key = (view.asset_id, round(time_s, 4))
        cached = self._frames.get(key)
        if cached is not None:
            self._frames.move_to_end(key)
            return cached
        frames, duration = frames_at(self.proxy_path(view), [time_s], self.limits)
        self._frames[key] = (frames[0], duration)
        while len(self._frames) > FRAME_CACHE:
            self._frames.popitem(last=False)
        return frames[0], duration

    def sample_asset(self, view: AssetView, preset: GradingPreset) -> list[ShotSamples]:
        """Analysis-size frames and statistics of every shot of the asset (one decode session)."""
        per_shot = [shot_times(shot, preset.frames_per_shot) for shot in view.shots]
        flat = [t for times in per_shot for t in times]
        duration = view.technical.duration_s
        flat = [min(max(t, 0.0), duration) for t in flat]  # shot ends are exclusive: stay inside
        frames, _ = frames_at(self.proxy_path(view), flat, self.limits, max_side=ANALYSIS_SIDE)
        samples, position = [], 0
        for shot, times in zip(view.shots, per_shot, strict=True):
            shot_frames = frames[position : position + len(times)]
            position += len(times)
            pixels = stats.sample_pixels(shot_frames)
            samples.append(ShotSamples(view, shot, shot_frames, pixels, stats.measure(pixels)))
        return samples

    # --- references ---------------------------------------------------------------------------------

    def reference_from_image(self, data: bytes) -> ReferenceLook:
        image = decode_image(data, self.limits)
        small = render.resize_to(image.rgb, *fit_size(image.rgb.shape[1], image.rgb.shape[0], ANALYSIS_SIDE))
        return ReferenceLook(
            label=f"image:{hashlib.sha256(data).hexdigest()}",
            stats=stats.measure(stats.sample_pixels([small])),
            thumbnail=small,
            bit_depth=image.bit_depth,
        )

    def reference_from_frame(self, asset_id: str, time_s: float) -> ReferenceLook:
        view = self.grades.load_view(asset_id)
        view.check_gradable()
        if not np.isfinite(time_s) or not 0.0 <= time_s <= view.technical.duration_s:
            raise GradingRefused(
                "invalid_argument",
                f"reference time {time_s:.3f} s is outside asset {asset_id} (duration {view.technical.duration_s:.3f} s)",
                code="time_out_of_range",
            )
        frames, _ = frames_at(self.proxy_path(view), [time_s], self.limits, max_side=ANALYSIS_SIDE)
        return ReferenceLook(
            label=f"asset:{asset_id}@{time_s:.3f}",
            stats=stats.measure(stats.sample_pixels(frames)),
            thumbnail=frames[0],
            bit_depth=view.technical.bit_depth or 8,
        )

    # --- matching -----------------------------------------------------------------------------------

    def load_views(
        self, asset_ids: Sequence[str], reference: ReferenceLook | None, allow_mismatch: bool
    ) -> list[AssetView]:
        if not asset_ids:
            raise GradingRefused("invalid_argument", "no target assets given")
        if len(set(asset_ids)) != len(asset_ids):
            raise GradingRefused("invalid_argument", "a target asset is named twice")
        views = []
        for asset_id in asset_ids:
            view = self.grades.load_view(asset_id)
            view.check_gradable()
            bits = view.technical.bit_depth or 8
            if (
                reference is not None
                and not allow_mismatch
                and _high_bit_depth(bits) != _high_bit_depth(reference.bit_depth)
            ):
                raise GradingRefused(
                    "failed_precondition",
                    f"bit depth mismatch: asset {asset_id} is {bits}-bit but the reference is "
                    f"{reference.bit_depth}-bit; match within one bit depth or allow the mismatch explicitly",
                    code="bit_depth_mismatch",
                )
            views.append(view)
        return views

    def look_id(self, view: AssetView, reference_label: str, mode: Mode, preset: GradingPreset) -> str:
        tags = self.grades.tags_version(view.asset_id)
        seed = f"{reference_label}|{mode}|{preset.name}|{MODEL}/{MODEL_VERSION}|tags{tags}"
        return hashlib.sha256(seed.encode()).hexdigest()[:16]

    def grade_shots(
        self,
        samples: list[ShotSamples],
        reference: ReferenceLook,
        mode: Mode,
        preset: GradingPreset,
        look_id: str,
    ) -> events_pb2.AssetGraded:
        """Grades, LUTs, CDLs and previews of one asset's shots (stored); the event minus envelope/run."""
        view = samples[0].view
        event = events_pb2.AssetGraded(
            look_id=look_id,
            mode=mode,
            reference=reference.label,
            preset=preset.name,
            review_below=preset.review_below,
        )
        if reference.thumbnail is not None:
            self.grades.put_output(
                view.asset_id, look_id, "reference.jpg", render.encode_jpeg(reference.thumbnail), "image/jpeg"
            )
        after: list[LookStats] = []
        for sample in samples:
            grade = matcher.match(sample.pixels, reference.stats, preset, mode)
            after.append(grade.after)
            event.grades.append(self._store_shot(sample, grade, reference, preset, look_id))
        for index, (before_e, after_e) in enumerate(
            matcher.continuity_steps([s.stats for s in samples], after)
        ):
            event.continuity.append(
                events_pb2.AssetGraded.ContinuityStep(
                    from_shot=samples[index].shot.index,
                    to_shot=samples[index + 1].shot.index,
                    delta_e_before=before_e,
                    delta_e_after=after_e,
                    from_asset_id=view.asset_id,
                    to_asset_id=view.asset_id,
                )
            )
        return event

    def _store_shot(
        self,
        sample: ShotSamples,
        grade: matcher.Grade,
        reference: ReferenceLook,
        preset: GradingPreset,
        look_id: str,
    ) -> events_pb2.AssetGraded.ShotGrade:
        asset_id, index = sample.view.asset_id, sample.shot.index
        reasons = list(grade.reasons)
        table = lut.bake(grade.params, preset.lut_size)
        cube = lut.cube_bytes(table, f"rushes {asset_id[:12]} shot {index} ({reference.label[:40]})")
        shot_grade = events_pb2.AssetGraded.ShotGrade(
            shot_index=index,
            start_s=sample.shot.start_s,
            end_s=sample.shot.end_s,
            params=params_to_proto(grade.params),
            confidence=grade.confidence,
            predicted_delta_e=grade.predicted_delta_e,
            delta_e_before=grade.delta_e_before,
            model=MODEL,
            model_version=MODEL_VERSION,
            needs_review=grade.needs_review,
            lut=self.grades.put_output(asset_id, look_id, f"shot_{index:04d}.cube", cube, "text/plain"),
            asset_id=asset_id,
        )
        fitted = cdl.fit(grade.params)
        if fitted.fit_delta_e <= preset.cdl_max_delta_e:
            key = self.grades.put_output(
                asset_id,
                look_id,
                f"shot_{index:04d}.cc",
                fitted.to_xml(f"{asset_id[:12]}_shot{index:04d}").encode(),
                "application/xml",
            )
            shot_grade.cdl.CopyFrom(
                events_pb2.AssetGraded.Cdl(
                    slope=list(fitted.slope),
                    offset=list(fitted.offset),
                    power=list(fitted.power),
                    saturation=fitted.saturation,
                    fit_delta_e=fitted.fit_delta_e,
                    key=key,
                )
            )
        else:
            reasons.append(f"cdl_not_expressible:fit_delta_e={fitted.fit_delta_e:.2f}")
        shot_grade.reasons.extend(reasons)
        middle = sample.frames[len(sample.frames) // 2]
        after = render.apply_cube(middle, lut.cube_bytes_fast(table))
        panels = [("before", middle), ("after", after)]
        if reference.thumbnail is not None:
            panels.append(("reference", reference.thumbnail))
        shot_grade.preview = self.grades.put_output(
            asset_id,
            look_id,
            f"shot_{index:04d}_preview.jpg",
            render.encode_jpeg(render.side_by_side(panels)),
            "image/jpeg",
        )
        return shot_grade

    async def match(
        self,
        reference: ReferenceLook | None,
        asset_ids: Sequence[str],
        mode: Mode,
        preset: GradingPreset,
        *,
        allow_bit_depth_mismatch: bool = False,
        trace_id: str | None = None,
    ) -> MatchResult:
        """MatchLook: grade every shot of every asset toward the reference (or the hero shot)."""
        if mode not in matcher.MODES:
            raise GradingRefused(
                "invalid_argument", f"unknown mode {mode!r}; known: {', '.join(matcher.MODES)}"
            )
        if reference is None and mode == "look":
            raise GradingRefused(
                "invalid_argument", "look mode needs a reference (an ASSET@TIME frame or an image)"
            )
        views = await asyncio.to_thread(self.load_views, asset_ids, reference, allow_bit_depth_mismatch)
        started = time.time()
        sampled = [await asyncio.to_thread(self.sample_asset, view, preset) for view in views]
        hero = ""
        if reference is None:
            everything = [s for asset in sampled for s in asset]
            chosen = everything[matcher.hero_index([s.stats for s in everything])]
            hero = f"{chosen.view.asset_id}#{chosen.shot.index}"
            reference = ReferenceLook(f"shot:{hero}", chosen.stats, chosen.frames[len(chosen.frames) // 2], 8)
        events = []
        for view, samples in zip(views, sampled, strict=True):
            look_id = self.look_id(view, reference.label, mode, preset)
            stored = await asyncio.to_thread(self.grades.load_graded, view.asset_id, look_id)
            if stored is None:
                stored = await asyncio.to_thread(self.grade_shots, samples, reference, mode, preset, look_id)
                stored.envelope.CopyFrom(
                    new_envelope(
                        GRADED,
                        asset_id=view.asset_id,
                        producer=PRODUCER,
                        producer_version=VERSION,
                        project=view.project,
                        trace_id=trace_id,
                    )
                )
                stored.run.CopyFrom(stage_run(STAGE, started, time.time()))
                await asyncio.to_thread(self.grades.save_graded, stored)
            await self.bus.publish(stored, msg_id=message_id(view.asset_id, STAGE, look_id))
            events.append(stored)
        return MatchResult(
            assets=events,
            continuity=self._continuity_across(sampled, events, reference, preset, mode),
            hero=hero,
        )

    def _continuity_across(
        self,
        sampled: list[list[ShotSamples]],
        events: list[events_pb2.AssetGraded],
        reference: ReferenceLook,
        preset: GradingPreset,
        mode: Mode,
    ) -> list[events_pb2.AssetGraded.ContinuityStep]:
        """Consecutive shots in request order, across asset boundaries too."""
        ordered = [s for asset in sampled for s in asset]
        afters = []
        for sample in ordered:
            grade = matcher.match(sample.pixels, reference.stats, preset, mode)
            afters.append(grade.after)
        steps = matcher.continuity_steps([s.stats for s in ordered], afters)
        return [
            events_pb2.AssetGraded.ContinuityStep(
                from_shot=ordered[i].shot.index,
                to_shot=ordered[i + 1].shot.index,
                delta_e_before=before_e,
                delta_e_after=after_e,
                from_asset_id=ordered[i].view.asset_id,
                to_asset_id=ordered[i + 1].view.asset_id,
            )
            for i, (before_e, after_e) in enumerate(steps)
        ]

    # --- automatic grading ---------------------------------------------------------------------------

    async def grade_for_project(self, tagged: events_pb2.AssetTagged) -> events_pb2.AssetGraded | None:
        """Grade a freshly tagged asset toward its project's reference look; None without one."""
        project = tagged.envelope.project
        look = await asyncio.to_thread(self.grades.load_project_look, project)
        if look is None:
            return None
        settings, reference_stats = look
        preset = get_preset(settings.get("preset") or None)
        thumbnail_jpeg = await asyncio.to_thread(self.grades.project_reference_jpeg, project)
        reference = ReferenceLook(
            label=f"project:{project}:{settings.get('label', '')}",
            stats=reference_stats,
            thumbnail=render.decode_jpeg(thumbnail_jpeg) if thumbnail_jpeg else None,
            bit_depth=int(settings.get("bit_depth", 8)),
        )
        asset_id = tagged.envelope.asset_id
        started = time.time()
        view = await asyncio.to_thread(self.grades.load_view, asset_id)
        look_id = self.look_id(view, reference.label, "look", preset)
        stored = await asyncio.to_thread(self.grades.load_graded, asset_id, look_id)
        if stored is None:
            try:
                view.check_gradable()
                samples = await asyncio.to_thread(self.sample_asset, view, preset)
                stored = await asyncio.to_thread(
                    self.grade_shots, samples, reference, "look", preset, look_id
                )
            except GradingRefused as exc:
                # The asset's own limits (HDR, no video): recorded as a skip, not a pipeline failure.
                stored = events_pb2.AssetGraded(look_id=look_id, mode="look", reference=reference.label,
                                                preset=preset.name, skipped_reason=exc.code)  # fmt: skip
            stored.project_look = project
            stored.envelope.CopyFrom(follow_up_envelope(GRADED, tagged.envelope, PRODUCER, VERSION))
            stored.run.CopyFrom(stage_run(STAGE, started, time.time()))
            await asyncio.to_thread(self.grades.save_graded, stored)
        await self.bus.publish(stored, msg_id=message_id(asset_id, STAGE, look_id))
        return stored

    def set_project_reference(self, project: str, reference: ReferenceLook, preset: GradingPreset) -> str:
        look = {
            "label": reference.label,
            "preset": preset.name,
            "bit_depth": reference.bit_depth,
            "stats": reference.stats.to_json(),
            "set_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        thumbnail = (
            reference.thumbnail if reference.thumbnail is not None else np.zeros((16, 16, 3), np.uint8)
        )
        return self.grades.save_project_look(project, look, render.encode_jpeg(thumbnail))

    # --- previews -----------------------------------------------------------------------------------

    def preview(
        self,
        asset_id: str,
        *,
        shot_index: int | None,
        time_s: float | None,
        frame_number: int | None,
        params: GradeParams | None,
        look_id: str,
        zoom: float,
        center: tuple[float, float],
        size: int,
        layout: str,
    ) -> tuple[bytes, int, int, float]:
        """(JPEG, width, height, time) of one frame with a grade applied."""
        layout = layout or "after"
        if layout not in LAYOUTS:
            raise GradingRefused(
                "invalid_argument", f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}"
            )
        if size and not MIN_PREVIEW_SIDE <= size <= MAX_PREVIEW_SIDE:
            raise GradingRefused(
                "invalid_argument",
                f"size {size} is outside {MIN_PREVIEW_SIDE}..{MAX_PREVIEW_SIDE} pixels (0: the frame's own)",
            )
        zoom = zoom or 1.0
        if not (np.isfinite(zoom) and 1.0 <= zoom <= render.MAX_ZOOM):
            raise GradingRefused("invalid_argument", f"zoom {zoom} is outside 1..{render.MAX_ZOOM:g}")
        if not all(np.isfinite(c) and 0.0 <= c <= 1.0 for c in center):
            raise GradingRefused(
                "invalid_argument", "center_x and center_y are fractions of the frame within 0..1"
            )
        view = self.grades.load_view(asset_id)
        view.check_gradable()
        at, shot = self._preview_time(view, shot_index, time_s, frame_number)
        graded_event = self.grades.load_graded(asset_id, look_id) if look_id else None
        if look_id and graded_event is None:
            raise GradingRefused("not_found", f"asset {asset_id} has no grading {look_id!r}")
        if params is None:
            params = IDENTITY
            if graded_event is not None:
                for grade in graded_event.grades:
                    if grade.shot_index == shot.index:
                        params = params_from_proto(grade.params)
        rgb, _ = self.frame(view, at)
        before = render.zoom_crop(rgb, zoom, *center)
        before = render.resize_to(
            before, *fit_size(before.shape[1], before.shape[0], size or max(before.shape[:2]))
        )
        after = render.apply_cube(before, lut.cube_bytes_fast(lut.bake(params)))
        picture = after
        if layout == "side_by_side":
            panels = [("before", before), ("after", after)]
            reference = (
                self.grades.get_output(asset_id, look_id, "reference.jpg", MAX_EVENT_BYTES)
                if look_id
                else None
            )
            decoded = render.decode_jpeg(reference) if reference else None
            if decoded is not None:
                panels.append(("reference", decoded))
            picture = render.side_by_side(panels)
        return render.encode_jpeg(picture), picture.shape[1], picture.shape[0], at

    def _preview_time(
        self, view: AssetView, shot_index: int | None, time_s: float | None, frame_number: int | None
    ) -> tuple[float, asset_pb2.Shot]:
        duration = view.technical.duration_s
        if frame_number is not None:
            fps = view.technical.fps or 25.0
            time_s = frame_number / fps
            if frame_number >= max(view.technical.frame_count, 1):
                raise GradingRefused(
                    "invalid_argument",
                    f"frame {frame_number} is outside asset {view.asset_id} ({view.technical.frame_count} frames)",
                    code="time_out_of_range",
                )
        if shot_index is not None:
            matches = [s for s in view.shots if s.index == shot_index]
            if not matches:
                raise GradingRefused(
                    "invalid_argument",
                    f"asset {view.asset_id} has no shot {shot_index} ({len(view.shots)} shots)",
                )
            shot = matches[0]
            if time_s is None:
                time_s = (shot.start_s + shot.end_s) / 2
        if time_s is None:
            time_s = duration / 2
        if not np.isfinite(time_s) or not 0.0 <= time_s <= duration:
            raise GradingRefused(
                "invalid_argument",
                f"time {time_s:.3f} s is outside asset {view.asset_id} (duration {duration:.3f} s)",
                code="time_out_of_range",
            )
        containing = [s for s in view.shots if s.start_s <= time_s < s.end_s] or view.shots[-1:]
        return time_s, containing[0]
