"""Decode a source and its rendition in lockstep behind rushes_media's guards and measure every shot.

Frames are paired by index. A rendition that covers only some shots may hold just those shots'
frames (its header frame count says so); anything else whose frame count, frame rate or shape
does not match its source is refused with an AlignmentError that names both sides.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import av
from rushes_config import MediaLimits
from rushes_media import MediaRejected
from rushes_media.decoding import check_reached_end, decode_errors, enable_threads
from rushes_media.safe_open import OpenedMedia, open_untrusted, stream_fps

from rushes_qc.align import Geometry, GeometryError, Planes, plan_geometry, to_grid
from rushes_qc.analyzer import ShotAnalyzer, ShotMeasurements
from rushes_qc.presets import Preset, ResolvedRules

FRAME_COUNT_TOLERANCE = 1  # an encoder may drop or repeat the very last frame
FPS_TOLERANCE = 0.01
UNKNOWN_END = 1 << 40  # the whole clip when the header does not count its frames


class AlignmentError(ValueError):
    """Source and rendition cannot be paired frame by frame (counts, rates or sizes differ)."""

    def __init__(self, message: str, code: str = "alignment") -> None:
        super().__init__(message)
        self.code = code  # "size_mismatch" | "frame_count_mismatch" | "frame_rate_mismatch" | "alignment"


class RenditionUnreadable(ValueError):
    """The rendition (or its source) is not decodable media: truncated, corrupt, audio only."""

    def __init__(self, which: str, rejection: MediaRejected) -> None:
        super().__init__(f"the {which} is unreadable ({rejection.code}): {rejection.reason}")
        self.which = which
        self.code = rejection.code


@dataclass(frozen=True)
class ShotSpan:
    index: int
    start_frame: int
    end_frame: int  # exclusive


@dataclass
class Comparison:
    geometry: Geometry
    frames_compared: int
    shots: list[ShotMeasurements]
    notes: list[str] = field(default_factory=list)
    source_frames: int = 0
    rendition_frames: int = 0


def compare_files(
    source: Path,
    rendition: Path,
    *,
    rules: ResolvedRules,
    preset: Preset,
    limits: MediaLimits,
    scale: float = 0.0,
    crop_fraction: float = 0.0,
    shots: Sequence[ShotSpan] = (),
    covered: Sequence[int] = (),
) -> Comparison:
    """Measure `rendition` against `source`, shot by shot (`shots` empty: one shot, the whole clip).

    `covered`: the shot indices the fix was applied to (empty: all); only those are judged.
    Raises RenditionUnreadable, AlignmentError (GeometryError is one) for the pair's own faults.
    """
    with ExitStack() as stack:
        src = _open(stack, source, limits, "source")
        ren = _open(stack, rendition, limits, "rendition")
        assert src.video is not None and ren.video is not None
        _check_rates(src, ren)
        enable_threads(src.video)
        enable_threads(ren.video)
        pairing = _Pairing.plan(src, ren, shots, covered)
        return _run(src, ren, pairing, rules=rules, preset=preset, scale=scale, crop_fraction=crop_fraction)


def _open(stack: ExitStack, path: Path, limits: MediaLimits, which: str) -> OpenedMedia:
    try:
        opened = stack.enter_context(open_untrusted(path, limits))
    except MediaRejected as exc:
        raise RenditionUnreadable(which, exc) from None
    if opened.video is None:
        raise RenditionUnreadable(
            which, MediaRejected("no_video", f"{path.name} has no picture (audio only?)")
        )
    return opened


def _check_rates(src: OpenedMedia, ren: OpenedMedia) -> None:
    assert src.video is not None and ren.video is not None
    src_fps, ren_fps = stream_fps(src.video), stream_fps(ren.video)
    if src_fps > 0 and ren_fps > 0 and abs(ren_fps / src_fps - 1.0) > FPS_TOLERANCE:
        raise AlignmentError(
            f"the source runs at {src_fps:.3f} fps, the rendition at {ren_fps:.3f} fps", "frame_rate_mismatch"
        )


@dataclass
class _Pairing:
    """Which source frame each rendition frame shows, and which shots are judged."""

    shots: list[ShotSpan]
    judged: set[int]
    covered_frames: list[int] | None  # rendition holds only these source frames, in order

    @classmethod
    def plan(
        cls, src: OpenedMedia, ren: OpenedMedia, shots: Sequence[ShotSpan], covered: Sequence[int]
    ) -> _Pairing:
        assert src.video is not None and ren.video is not None
        whole_clip = ShotSpan(0, 0, src.video.frames if src.video.frames > 0 else UNKNOWN_END)
        spans = sorted(shots, key=lambda s: s.start_frame) or [whole_clip]
        known = {s.index for s in spans}
        unknown = sorted(set(covered) - known)
        if unknown and shots:
            raise AlignmentError(f"the rendition covers shots {unknown} that the asset does not have")
        judged = set(covered) & known if covered else known
        covered_frames = None
        if covered and shots:
            frames = [f for s in spans if s.index in judged for f in range(s.start_frame, s.end_frame)]
            declared = ren.video.frames
            if declared and declared == len(frames) and declared != src.video.frames:
                covered_frames = frames
        return cls(shots=spans, judged=judged, covered_frames=covered_frames)


def _run(
    src: OpenedMedia,
    ren: OpenedMedia,
    pairing: _Pairing,
    *,
    rules: ResolvedRules,
    preset: Preset,
    scale: float,
    crop_fraction: float,
) -> Comparison:
    assert src.video is not None and ren.video is not None
    options = preset.analysis
    starts = [s.start_frame for s in pairing.shots]
    analyzers: dict[int, ShotAnalyzer] = {}
    geometry: Geometry | None = None
    src_frames = _frames(src, "source")
    ren_frames = _frames(ren, "rendition")
    compared = src_count = ren_count = 0
    wanted = iter(pairing.covered_frames) if pairing.covered_frames is not None else None
    for ren_frame in ren_frames:
        ren_count += 1
        target = next(wanted, None) if wanted is not None else ren_count - 1
        if target is None:
            raise AlignmentError(
                f"the rendition has more frames than the {len(pairing.covered_frames or [])} of the shots it covers",
                "frame_count_mismatch",
            )
        src_frame = None
        while src_count <= target:
            src_frame = next(src_frames, None)
            if src_frame is None:
                break
            src_count += 1
        if src_frame is None:
            ren_count += sum(1 for _ in ren_frames)
            raise _count_mismatch(src_count, ren_count, pairing)
        if geometry is None:
            try:
                geometry = plan_geometry(
                    (src_frame.width, src_frame.height),
                    (ren_frame.width, ren_frame.height),
                    scale=scale,
                    crop_fraction=crop_fraction,
                    analysis_width=options.analysis_width,
                )
            except GeometryError as exc:
                raise AlignmentError(str(exc), "size_mismatch") from None
        elif (ren_frame.width, ren_frame.height) != (geometry.rendition_width, geometry.rendition_height):
            raise AlignmentError(f"the rendition changes size mid-stream at frame {ren_count - 1}")
        shot = pairing.shots[max(0, bisect.bisect_right(starts, target) - 1)]
        if shot.index not in pairing.judged:
            continue
        analyzer = analyzers.get(shot.index)
        if analyzer is None:
            analyzer = analyzers[shot.index] = ShotAnalyzer(
                shot.index,
                shot.start_frame,
                shot.end_frame,
                geometry,
                options,
                motion_compensate=rules.motion_compensate,
                upscale_periods=_periods(geometry),
            )
        src_planes, ren_planes = Planes.from_frame(src_frame), Planes.from_frame(ren_frame)
        analyzer.push(
            target,
            to_grid(src_planes, geometry, is_source=True),
            to_grid(ren_planes, geometry, is_source=False),
            src_planes,
            ren_planes,
        )
        compared += 1
    src_count += sum(1 for _ in src_frames)
    if geometry is None:
        raise AlignmentError("the rendition has no decodable frames")
    expected = len(pairing.covered_frames) if pairing.covered_frames is not None else src_count
    if abs(ren_count - expected) > FRAME_COUNT_TOLERANCE:
        raise _count_mismatch(src_count, ren_count, pairing)
    notes = []
    if ren_count != expected:
        notes.append(
            f"frame counts differ by {abs(ren_count - expected)} (source {src_count}, rendition "
            f"{ren_count}): paired from the first frame"
        )
    return Comparison(
        geometry=geometry,
        frames_compared=compared,
        shots=[analyzers[i].finish() for i in sorted(analyzers)],
        notes=notes,
        source_frames=src_count,
        rendition_frames=ren_count,
    )


def _count_mismatch(src_count: int, ren_count: int, pairing: _Pairing) -> AlignmentError:
    covered = f" ({len(pairing.covered_frames)} in the shots it covers)" if pairing.covered_frames else ""
    return AlignmentError(
        f"the source has {src_count} frames{covered}, the rendition {ren_count}", "frame_count_mismatch"
    )


def _periods(geometry: Geometry) -> tuple[int, ...]:
    """Candidate checkerboard periods (rendition pixels): the stride of a 2x/3x/4x upscaler, and 2
    (a stride-2 transposed convolution inside any learned model)."""
    stride = round(geometry.scale)
    return tuple(sorted({2, stride} - {0, 1}))


def _frames(opened: OpenedMedia, which: str) -> Iterator[av.VideoFrame]:
    assert opened.video is not None
    reached = 0.0
    try:
        with decode_errors(opened, which):
            for index, frame in enumerate(opened.container.decode(opened.video)):
                if index % 64 == 0:
                    opened.check_deadline()
                if frame.pts is not None and frame.time_base is not None:
                    reached = float((frame.pts + (frame.duration or 0)) * frame.time_base)
                yield frame
        check_reached_end(opened, reached, which)
    except MediaRejected as exc:
        raise RenditionUnreadable(which, exc) from None
