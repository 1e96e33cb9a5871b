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


class StreamingDetection:
    """Shot detection inside a decode loop someone else drives (the tagger decodes each frame once
    and feeds it both here and to the analyzers). push() every frame in decode order, then finish().
    """

    def __init__(
        self,
        container: InputContainer,
        stream: VideoStream,
        *,
        name: str,
        start_timecode: str | None = None,
        fps: float | None = None,
        drop_frame: bool | None = None,
        config: ShotDetectorConfig | None = None,
    ) -> None:
        rate = fps if fps is not None else stream_fps(stream)
        if not rate or rate <= 0:
            raise ValueError(f"{name}: the video stream declares no frame rate; pass fps=")
        self.name = name
        self.detector = _detector(rate, config, start_timecode, file_timecode(container, stream), drop_frame)
        self._extract = FeatureExtractor(stream.sample_aspect_ratio)
        self._period = 1.0 / rate
        self._time = 0.0
        self._last_duration = 0.0
        self._time_base: object = None
        self._seconds_per_tick = 0.0
        self.times: list[float] = []

    def push(self, index: int, frame: av.VideoFrame) -> float:
        """Feed frame `index` (0, 1, 2...); returns its presentation time in seconds."""
        if frame.time_base is not self._time_base:  # a Fraction: converted once, not per frame
            self._time_base = frame.time_base
            self._seconds_per_tick = float(frame.time_base) if frame.time_base is not None else 0.0
        if frame.pts is not None and frame.time_base is not None:
            self._time = frame.pts * self._seconds_per_tick
        elif index:
            self._time += self._period
        self.detector.push(index, self._time, self._extract(frame))
        self._last_duration = frame.duration * self._seconds_per_tick if frame.duration else self._period
        self.times.append(self._time)
        return self._time

    @property
    def may_start_shot(self) -> bool:
        """True when the last frame pushed changed enough from the one before to open a new shot
        (the detector confirms or rejects that frames later)."""
        return self.detector.last_step_change >= self.detector.config.cut_floor

    def finish(self) -> ShotResult:
        if self.detector.frame_count == 0:
            raise ValueError(f"{self.name}: the video stream has no decodable frames")
        return self.detector.finish(end_s=self._time + self._last_duration)


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
    detection = StreamingDetection(
        container,
        stream,
        name=name,
        start_timecode=start_timecode,
        fps=fps,
        drop_frame=drop_frame,
        config=config,
    )
    stream.thread_type = "AUTO"
    index = -1
    try:
        for index, frame in enumerate(container.decode(stream)):
            detection.push(index, frame)
    except av.error.FFmpegError as exc:
        raise ValueError(f"{name}: decoding failed after frame {index}: {exc}") from exc
    return detection.finish()
