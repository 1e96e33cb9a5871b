"""Decode a file once and detect its shots: the convenience entry point.

The tagging service opens media through `rushes_media` (limits, allowlists) and drives
`FeatureExtractor` + `ShotDetector` itself inside its own decode loop; this module does the same
for a trusted local path (tests, the benchmark, scripts). Decoding uses frame threads; every frame
is reduced to `FrameFeatures` straight from its planes, so no full-size conversion happens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import av
import av.error
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream

from rushes_tagging.shots.config import ShotDetectorConfig
from rushes_tagging.shots.detector import ShotDetector
from rushes_tagging.shots.features import FeatureExtractor
from rushes_tagging.shots.model import ShotResult

_TIMECODE_TAG = re.compile(r"^\d{1,2}:\d{2}:\d{2}[:;.,]\d{2,3}$")


def main_video_stream(container: InputContainer) -> VideoStream:
    """The first video stream that is footage (cover art is a one-frame 'video' stream)."""
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic:
            return stream
    raise ValueError(f"{Path(container.name).name} has no video stream")


def stream_fps(stream: VideoStream) -> float:
    """Average frame rate, falling back to the container's base rate; 0 when neither is known."""
    for rate in (stream.average_rate, stream.base_rate, stream.guessed_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return 0.0


def file_timecode(container: InputContainer, stream: VideoStream) -> str | None:
    """The start timecode a camera wrote: video stream tag, then a tmcd/data track, then the file."""
    tag_sets: Iterable[Mapping[str, str]] = [
        stream.metadata,
        *(s.metadata for s in container.streams if s is not stream),
        container.metadata,
    ]
    for tags in tag_sets:
        for key, value in tags.items():
            if key.lower() == "timecode" and _TIMECODE_TAG.match(value.strip()):
                return value.strip()
    return None


def _detector(
    fps: float,
    config: ShotDetectorConfig | None,
    requested: str | None,
    from_file: str | None,
    drop_frame: bool | None,
) -> ShotDetector:
    """A detector labelled with the caller's start timecode (errors are the caller's), else the
    file's. A file tag that does not fit the frame rate (drop-frame at 25 fps) is read as
    non-drop, and one that still does not fit (frame 27 at 25 fps) is ignored: the file's fault
    must not stop shot detection."""
    if requested is not None or from_file is None:
        return ShotDetector(fps, config=config, start_timecode=requested, drop_frame=drop_frame)
    for label, drop in ((from_file, drop_frame), (re.sub(r"[;.,]", ":", from_file), False)):
        try:
            return ShotDetector(fps, config=config, start_timecode=label, drop_frame=drop)
        except ValueError:
            continue
    return ShotDetector(fps, config=config, start_timecode=None, drop_frame=drop_frame)


def detect_shots(
    path: str | Path,
    *,
    start_timecode: str | None = None,
    fps: float | None = None,
    drop_frame: bool | None = None,
    config: ShotDetectorConfig | None = None,
) -> ShotResult:
    """Shots and transitions of the main video stream of `path`.

    `start_timecode` overrides the file's own start timecode (default 00:00:00:00 when it has
    none); `fps` overrides the stream's average frame rate (needed only when the file does not
    declare one).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist or is not a file")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise ValueError(f"{path.name} could not be opened as media: {exc}") from exc
    with container:
        return detect_in_container(
            container,
            main_video_stream(container),
            name=path.name,
            start_timecode=start_timecode,
            fps=fps,
            drop_frame=drop_frame,
            config=config,
        )


def detect_in_container(
    container: InputContainer,
    stream: VideoStream,
    *,
    name: str,
    start_timecode: str | None = None,
    fps: float | None = None,
    drop_frame: bool | None = None,
    config: ShotDetectorConfig | None = None,
) -> ShotResult:
    """detect_shots() on a container the caller opened (e.g. behind rushes_media's guards)."""
    rate = fps if fps is not None else stream_fps(stream)
    if not rate or rate <= 0:
        raise ValueError(f"{name}: the video stream declares no frame rate; pass fps=")
    detector = _detector(rate, config, start_timecode, file_timecode(container, stream), drop_frame)
    stream.thread_type = "AUTO"
    extract = FeatureExtractor(stream.sample_aspect_ratio)
    period = 1.0 / rate
    time = 0.0
    index = -1
    last_duration = 0.0
    time_base, seconds_per_tick = None, 0.0
    try:
        for index, frame in enumerate(container.decode(stream)):
            if frame.time_base is not time_base:  # a Fraction: converted once, not per frame
                time_base = frame.time_base
                seconds_per_tick = float(time_base) if time_base is not None else 0.0
            if frame.pts is not None and time_base is not None:
                time = frame.pts * seconds_per_tick
            elif index:
                time += period
            detector.push(index, time, extract(frame))
            last_duration = frame.duration * seconds_per_tick if frame.duration else period
    except av.error.FFmpegError as exc:
        raise ValueError(f"{name}: decoding failed after frame {index}: {exc}") from exc
    if detector.frame_count == 0:
        raise ValueError(f"{name}: the video stream has no decodable frames")
    return detector.finish(end_s=time + last_duration)
