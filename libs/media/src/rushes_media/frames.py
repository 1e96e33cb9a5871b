"""Pictures of untrusted video at chosen times (or frame indices): upright, square-pixel, bounded.

Several services need "the frame at 12.4 s" (grading's reference and preview frames, keyframes for
scoring): this is the one reader, so every caller gets the same guards (the file is opened through
`open_untrusted`), the same frame choice and the same display geometry (rotation matrix and sample
aspect ratio applied, as the proxy does).

Frame choice: the frame *on screen* at time t, i.e. the last frame whose presentation time is
<= t (the first frame when t precedes it). Times are measured from the video stream's start.

Seeking: targets are visited in time order; a target close ahead of the decoder's position is
reached by decoding forward, a far one by seeking to the keyframe before it and decoding forward.
Some files seek badly (no index, broken timestamps, a demuxer that lands after the target); when
the first frame after a seek is later than the target, or frames carry no timestamp, the reader
reopens the file and decodes from the start instead, which is slow but always right.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final, Literal

import numpy as np
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from rushes_config import MediaLimits

from rushes_media.decoding import decode_errors, enable_threads, upright_rotation
from rushes_media.geometry import fit_display
from rushes_media.safe_open import OpenedMedia, open_untrusted

PixelFormat = Literal["rgb24", "bgr24"]
Strategy = Literal["seek", "sequential"]

# A target this close ahead of the decoder is reached by decoding on: cheaper than a seek that would
# land on the same keyframe and decode the same frames again.
FORWARD_WINDOW_S: Final = 2.0
# Half a millisecond absorbs rounding between a requested time and a frame's rational timestamp.
TIME_EPSILON_S: Final = 5e-4
UNBOUNDED: Final = 1 << 30


class FrameRequestError(ValueError):
    """The request cannot be met for this file (caller's fault, not the file's): `code` says why.

    Codes: ``no_times`` (empty request), ``bad_time`` (NaN/inf), ``time_out_of_range``,
    ``index_out_of_range``, ``no_video`` (audio-only file), ``bad_size``.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Frames:
    """Decoded pictures in the order requested, and what the reader learned about the file."""

    pictures: list[np.ndarray]  # H x W x 3 uint8, upright, square pixels, in `pixel_format`
    times_s: list[float]  # presentation time (from the stream's start) of each returned frame
    duration_s: float
    rotation: int  # clockwise degrees applied to make the pictures upright
    sequential: bool  # True when the pictures came from a decode from the start (no seeking)


class _SeekUnreliable(Exception):
    """Internal: the file's seeking cannot be trusted; decode from the start instead."""


@dataclass(frozen=True)
class _Timing:
    time_base: Fraction
    start_pts: int

    def seconds(self, frame: VideoFrame) -> float | None:
        if frame.pts is None:
            return None
        return float((frame.pts - self.start_pts) * self.time_base)

    def pts(self, time_s: float) -> int:
        return self.start_pts + int(time_s / self.time_base)


def _timing(stream: VideoStream) -> _Timing:
    time_base = stream.time_base or Fraction(1, 90000)
    return _Timing(time_base, stream.start_time or 0)


def _check_box(max_width: int, max_height: int, size: tuple[int, int] | None) -> None:
    if max_width < 2 or max_height < 2:
        raise FrameRequestError(
            "bad_size", f"the size bound must be at least 2x2, got {max_width}x{max_height}"
        )
    if size is not None and (size[0] < 2 or size[1] < 2):
        raise FrameRequestError(
            "bad_size", f"the requested size must be at least 2x2, got {size[0]}x{size[1]}"
        )


def _picture(
    frame: VideoFrame,
    sar: Fraction | None,
    *,
    max_width: int,
    max_height: int,
    size: tuple[int, int] | None,
    pixel_format: PixelFormat,
) -> tuple[np.ndarray, int]:
    """`frame` scaled (sample aspect ratio applied) and turned upright; (array, rotation applied)."""
    rotation = upright_rotation(frame)
    if size is not None:
        width, height = size
        scaled_w, scaled_h = (height, width) if rotation in (90, 270) else (width, height)
    else:
        scaling = fit_display(
            frame.width, frame.height, sar, rotation, max_width=max_width, max_height=max_height
        )
        scaled_w, scaled_h = scaling.scaled_width, scaling.scaled_height
    array: np.ndarray = frame.reformat(width=scaled_w, height=scaled_h, format=pixel_format).to_ndarray()
    if rotation:
        array = np.rot90(array, k=-(rotation // 90))  # negative k: clockwise
    return np.ascontiguousarray(array), rotation


def _validate_times(times_s: Sequence[float], duration_s: float, name: str) -> None:
    if not times_s:
        raise FrameRequestError("no_times", "no frame times were requested")
    for time_s in times_s:
        if not np.isfinite(time_s):
            raise FrameRequestError("bad_time", f"frame time {time_s!r} is not a finite number")
        if time_s < 0 or (duration_s > 0 and time_s > duration_s + TIME_EPSILON_S):
            raise FrameRequestError(
                "time_out_of_range",
                f"time {time_s:.3f} s is outside {name} (duration {duration_s:.3f} s)",
            )


def _scan_after_seek(
    opened: OpenedMedia,
    decoded: Iterable[VideoFrame],
    timing: _Timing,
    targets: Sequence[float],
    found: dict[float, tuple[float, VideoFrame]],
    *,
    check_landing: bool,
) -> None:
    """Decode forward from a seek, filling `found` for each (sorted) target, stopping at the last.

    Raises _SeekUnreliable when the landing is later than the first target (with `check_landing`),
    a frame has no timestamp, or timestamps go backwards: none of those can be trusted here.
    """
    previous: tuple[float, VideoFrame] | None = None
    index = 0
    for frame in decoded:
        opened.check_deadline()
        time_s = timing.seconds(frame)
        if time_s is None or (previous is not None and time_s < previous[0]):
            raise _SeekUnreliable
        opened.position_s = time_s
        if previous is None and check_landing and time_s > targets[0] + TIME_EPSILON_S:
            raise _SeekUnreliable
        while index < len(targets) and time_s > targets[index] + TIME_EPSILON_S:
            found[targets[index]] = previous if previous is not None else (time_s, frame)
            index += 1
        if index == len(targets):
            return
        previous = (time_s, frame)
    if previous is None:
        raise _SeekUnreliable
    for target in targets[index:]:
        found[target] = previous


def _scan_from_start(
    opened: OpenedMedia,
    decoded: Iterable[VideoFrame],
    timing: _Timing,
    targets: Sequence[float],
    found: dict[float, tuple[float, VideoFrame]],
) -> None:
    """Decode from the start, keeping per target the frame with the latest time <= target.

    Tolerates timestamps out of order (remuxed files) or missing (then a frame inherits its
    predecessor's time plus a millisecond); stops once decoding is FORWARD_WINDOW_S past the last target.
    """
    earliest: tuple[float, VideoFrame] | None = None
    last_time = -1.0
    horizon = targets[-1] + FORWARD_WINDOW_S
    for frame in decoded:
        opened.check_deadline()
        stamped = timing.seconds(frame)
        time_s = stamped if stamped is not None else last_time + 1e-3
        last_time = max(last_time, time_s)
        opened.position_s = time_s
        if earliest is None or time_s < earliest[0]:
            earliest = (time_s, frame)
        for target in targets:
            best = found.get(target)
            if time_s <= target + TIME_EPSILON_S and (best is None or time_s >= best[0]):
                found[target] = (time_s, frame)
        if time_s > horizon:
            break
    if earliest is None:
        raise FrameRequestError("no_video", f"no picture of {opened.path.name} decodes")
    for target in targets:
        found.setdefault(target, earliest)


def _groups(targets: Sequence[float]) -> Iterator[list[float]]:
    """Sorted targets split where the gap is too wide to decode through."""
    group: list[float] = []
    for target in targets:
        if group and target - group[-1] > FORWARD_WINDOW_S:
            yield group
            group = []
        group.append(target)
    if group:
        yield group


def _seek_all(
    opened: OpenedMedia, stream: VideoStream, targets: Sequence[float]
) -> dict[float, tuple[float, VideoFrame]]:
    timing = _timing(stream)
    found: dict[float, tuple[float, VideoFrame]] = {}
    for group in _groups(targets):
        opened.container.seek(max(timing.start_pts, timing.pts(group[0])), stream=stream, backward=True)
        decoder = opened.container.decode(stream)
        try:
            # A target at (or before) the first frame may legitimately land "late": check only
            # targets past the first frame's slot.
            _scan_after_seek(opened, decoder, timing, group, found, check_landing=group[0] > TIME_EPSILON_S)
        finally:
            close = getattr(decoder, "close", None)
            if close is not None:
                close()
    return found


def _sequential(
    opened: OpenedMedia, stream: VideoStream, targets: Sequence[float]
) -> dict[float, tuple[float, VideoFrame]]:
    found: dict[float, tuple[float, VideoFrame]] = {}
    _scan_from_start(opened, opened.container.decode(stream), _timing(stream), targets, found)
    return found


def _video(opened: OpenedMedia) -> VideoStream:
    stream = opened.video
    if stream is None:
        raise FrameRequestError("no_video", f"{opened.path.name} has no video stream")
    enable_threads(stream)
    return stream


def frames_at(
    path: Path,
    times_s: Sequence[float],
    limits: MediaLimits,
    *,
    max_width: int = UNBOUNDED,
    max_height: int = UNBOUNDED,
    size: tuple[int, int] | None = None,
    pixel_format: PixelFormat = "rgb24",
    strategy: Strategy = "seek",
    time_limit_s: float | None = None,
) -> Frames:
    """The frames on screen at each of `times_s` (seconds from the start), in the order given.

    Pictures are upright and square-pixel, fitted inside max_width x max_height (never upscaled),
    or exactly `size` = (width, height) when given. `strategy="sequential"` never seeks.
    Raises FrameRequestError for a bad request (time outside the video, no video stream) and
    MediaRejected for a file that fails the guards or does not decode.
    """
    _check_box(max_width, max_height, size)
    path = Path(path)
    targets = sorted(set(float(t) for t in times_s)) if times_s else []
    sequential = strategy == "sequential"
    with open_untrusted(path, limits, time_limit_s=time_limit_s) as opened:
        stream = _video(opened)
        _validate_times(list(times_s), opened.duration_s, path.name)
        sar = stream.sample_aspect_ratio
        with decode_errors(opened, "video"):
            try:
                found = (
                    _sequential(opened, stream, targets) if sequential else _seek_all(opened, stream, targets)
                )
            except _SeekUnreliable:
                found = {}
            if found:
                return _assemble(
                    found,
                    times_s,
                    sar,
                    opened.duration_s,
                    sequential,
                    max_width,
                    max_height,
                    size,
                    pixel_format,
                )
    # Seeking failed on this file: reopen (a demuxer that seeks badly may not rewind either).
    with open_untrusted(path, limits, time_limit_s=time_limit_s) as opened:
        stream = _video(opened)
        with decode_errors(opened, "video"):
            found = _sequential(opened, stream, targets)
            return _assemble(
                found,
                times_s,
                stream.sample_aspect_ratio,
                opened.duration_s,
                True,
                max_width,
                max_height,
                size,
                pixel_format,
            )


def _assemble(
    found: dict[float, tuple[float, VideoFrame]],
    times_s: Sequence[float],
    sar: Fraction | None,
    duration_s: float,
    sequential: bool,
    max_width: int,
    max_height: int,
    size: tuple[int, int] | None,
    pixel_format: PixelFormat,
) -> Frames:
    converted: dict[float, np.ndarray] = {}
    rotation = 0
    for target, (_time, frame) in found.items():
        converted[target], rotation = _picture(
            frame, sar, max_width=max_width, max_height=max_height, size=size, pixel_format=pixel_format
        )
    return Frames(
        pictures=[converted[float(t)] for t in times_s],
        times_s=[found[float(t)][0] for t in times_s],
        duration_s=duration_s,
        rotation=rotation,
        sequential=sequential,
    )


def frames_at_indices(
    path: Path,
    indices: Sequence[int],
    limits: MediaLimits,
    *,
    max_width: int = UNBOUNDED,
    max_height: int = UNBOUNDED,
    size: tuple[int, int] | None = None,
    pixel_format: PixelFormat = "rgb24",
    time_limit_s: float | None = None,
) -> Frames:
    """Frames by decode-order index (0 = first picture), exact on VFR files; decodes from the start.

    Raises FrameRequestError("index_out_of_range") naming the frame count when an index is past the end.
    """
    _check_box(max_width, max_height, size)
    if not indices:
        raise FrameRequestError("no_times", "no frame indices were requested")
    if min(indices) < 0:
        raise FrameRequestError("index_out_of_range", f"frame index {min(indices)} is negative")
    wanted = set(indices)
    last = max(wanted)
    path = Path(path)
    with open_untrusted(path, limits, time_limit_s=time_limit_s) as opened:
        stream = _video(opened)
        timing = _timing(stream)
        found: dict[int, tuple[float, VideoFrame]] = {}
        count = 0
        with decode_errors(opened, "video"):
            for count, frame in enumerate(opened.container.decode(stream), start=1):
                opened.check_deadline()
                if count - 1 in wanted:
                    found[count - 1] = (timing.seconds(frame) or 0.0, frame)
                if count - 1 >= last:
                    break
        if last not in found:
            raise FrameRequestError(
                "index_out_of_range", f"frame index {last} is past the end: {path.name} has {count} frames"
            )
        as_times = {float(i): hit for i, hit in found.items()}
        result = _assemble(
            as_times,
            [float(i) for i in indices],
            stream.sample_aspect_ratio,
            opened.duration_s,
            True,
            max_width,
            max_height,
            size,
            pixel_format,
        )
        return result
