"""Streaming frame I/O for renditions: decode the proxy frame by frame, encode the result the same way.

Never holds a clip: the reader yields one frame at a time and the writer encodes as frames arrive.
The proxy is untrusted bytes like any other (opened behind rushes_media's guards); it is upright
with square pixels (rushes_media.proxy), so frames are used as decoded. Timestamps are carried
over, so a rendition's frame N is the source's frame N (what qc aligns on), VFR included.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
from rushes_config import MediaLimits
from rushes_media import MediaRejected
from rushes_media.decoding import decode_errors, enable_threads
from rushes_media.safe_open import open_untrusted


@dataclass(frozen=True)
class SourceInfo:
    width: int
    height: int
    fps: float
    frame_count: int  # as declared by the container (0 when unknown)
    time_base: Fraction
    rate: Fraction


@dataclass(frozen=True)
class SourceFrame:
    index: int
    time_s: float
    pts: int | None
    bgr: np.ndarray  # uint8 [H, W, 3]


def source_info(path: Path, limits: MediaLimits) -> SourceInfo:
    with open_untrusted(path, limits) as opened:
        stream = opened.video
        if stream is None:
            raise MediaRejected("no_video", f"{path.name} has no picture to enhance (audio only)")
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        frames = int(stream.frames or 0)
        if not frames and opened.duration_s > 0:
            frames = round(opened.duration_s * float(rate))
        return SourceInfo(
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=float(rate),
            frame_count=frames,
            time_base=stream.time_base or Fraction(1, 90000),
            rate=Fraction(rate),
        )


def read_frames(path: Path, limits: MediaLimits, *, max_frames: int) -> Iterator[SourceFrame]:
    """Frames in decode order as BGR; MediaRejected on damage or past `max_frames`."""
    with open_untrusted(path, limits) as opened:
        stream = opened.video
        if stream is None:
            raise MediaRejected("no_video", f"{path.name} has no picture to enhance (audio only)")
        enable_threads(stream)
        with decode_errors(opened, "enhance"):
            for index, frame in enumerate(opened.container.decode(stream)):
                if index % 64 == 0:
                    opened.check_deadline()
                if index >= max_frames:
                    raise MediaRejected("too_many_frames", f"{path.name} has more than {max_frames} frames")
                time_s = (
                    float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else 0.0
                )
                yield SourceFrame(index, time_s, frame.pts, frame.to_ndarray(format="bgr24"))


class RenditionWriter:
    """H.264 (yuv420p) MP4 writer keeping the source's timestamps; odd sizes lose their last row/column."""

    def __init__(self, path: Path, info: SourceInfo, *, width: int, height: int, crf: int) -> None:
        self.width = width - width % 2
        self.height = height - height % 2
        self.frames = 0
        self._last_pts: int | None = None
        self._container = av.open(str(path), "w", format="mp4")
        self._stream = self._container.add_stream("libx264", rate=info.rate)
        self._stream.width, self._stream.height, self._stream.pix_fmt = self.width, self.height, "yuv420p"
        self._stream.codec_context.time_base = info.time_base
        self._stream.time_base = info.time_base
        self._stream.options = {"crf": str(crf), "preset": "veryfast"}
        self._frame_step = max(1, round(1 / (float(info.rate) * float(info.time_base))))

    def write(self, bgr: np.ndarray, pts: int | None) -> None:
        if bgr.shape[0] < self.height or bgr.shape[1] < self.width:
            raise ValueError(
                f"frame {bgr.shape[1]}x{bgr.shape[0]} smaller than the rendition {self.width}x{self.height}"
            )
        frame = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(bgr[: self.height, : self.width]), format="bgr24"
        )
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            pts = 0 if self._last_pts is None else self._last_pts + self._frame_step
        frame.pts = pts
        frame.time_base = self._stream.codec_context.time_base
        self._last_pts = pts
        self._container.mux(self._stream.encode(frame))
        self.frames += 1

    def close(self) -> None:
        self._container.mux(self._stream.encode(None))
        self._container.close()

    def __enter__(self) -> RenditionWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._container.close()
