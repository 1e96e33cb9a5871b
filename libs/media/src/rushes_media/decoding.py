"""Shared decode plumbing for derived files: stream choice, filter graphs, error and EOF handling."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import av
import av.error
from av.audio.stream import AudioStream
from av.filter import Graph
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from rushes_media.errors import MediaRejected
from rushes_media.geometry import Scaling, fit_display, rotation_filters
from rushes_media.safe_open import OpenedMedia

# A derived file that ends this much earlier than the declared duration means the source is cut short.
TRUNCATION_TOLERANCE_S: Final = 1.5
TRUNCATION_TOLERANCE_FRACTION: Final = 0.02
# Containers whose duration FFmpeg may only estimate from the bit rate (VBR MP3 without a Xing
# header, program streams): comparing against it would reject healthy files.
ESTIMATED_DURATION_FORMATS: Final = frozenset({"mp3", "mpeg"})


def main_audio(opened: OpenedMedia) -> AudioStream | None:
    """The default-disposition audio stream, else the first decodable one."""
    defaults = [s for s in opened.audio if s.disposition & Disposition.default]
    candidates = defaults or opened.audio
    return candidates[0] if candidates else None


def enable_threads(stream: VideoStream | AudioStream) -> None:
    """Frame and slice threads in the decoder: PyAV decodes single-threaded unless told otherwise."""
    stream.codec_context.thread_type = "AUTO"
    stream.codec_context.thread_count = 0  # one per core


def upright_rotation(frame: VideoFrame) -> int:
    """Clockwise degrees (0/90/180/270) that make `frame` display upright (see probe._display_rotation)."""
    return (round(-frame.rotation / 90) * 90) % 360


def build_video_graph(
    frame: VideoFrame, stream: VideoStream, *, max_width: int, max_height: int, pix_fmt: str
) -> tuple[Graph, Scaling]:
    """A libavfilter graph: scale (applying SAR) -> rotate pixels upright -> square pixels -> pix_fmt.

    Built from the first decoded frame, whose size, format and display matrix are authoritative
    (PyAV exposes no per-frame SAR, so the stream's is used).
    Scaling runs before rotation so the transpose touches the smaller picture.
    """
    scaling = fit_display(
        frame.width,
        frame.height,
        stream.sample_aspect_ratio,
        upright_rotation(frame),
        max_width=max_width,
        max_height=max_height,
    )
    graph = Graph()
    source = graph.add_buffer(
        width=frame.width, height=frame.height, format=frame.format, time_base=stream.time_base
    )
    steps = [graph.add("scale", f"{scaling.scaled_width}:{scaling.scaled_height}:flags=bicubic")]
    steps += [graph.add(name, args or None) for name, args in rotation_filters(scaling.rotation)]
    steps += [graph.add("setsar", "1"), graph.add("format", pix_fmt), graph.add("buffersink")]
    graph.link_nodes(source, *steps).configure()
    return graph, scaling


@contextmanager
def decode_errors(opened: OpenedMedia, what: str) -> Iterator[None]:
    """Map FFmpeg failures while demuxing/decoding to MediaRejected with the position reached."""
    try:
        yield
    except av.error.EOFError as exc:
        raise MediaRejected(
            "truncated",
            f"{opened.path.name}: the {what} data ends early, at {opened.position_s:.2f} s ({exc})",
        ) from exc
    except av.error.FFmpegError as exc:
        raise MediaRejected(
            "decode_error",
            f"{opened.path.name}: decoding the {what} failed at {opened.position_s:.2f} s: {exc}",
        ) from exc


def check_reached_end(opened: OpenedMedia, reached_s: float, what: str) -> None:
    """Refuse output that stops well before the declared duration: the source is truncated."""
    declared = opened.duration_s
    if declared <= 0 or opened.container.format.name.split(",")[0] in ESTIMATED_DURATION_FORMATS:
        return
    missing = declared - reached_s
    if missing > max(TRUNCATION_TOLERANCE_S, TRUNCATION_TOLERANCE_FRACTION * declared):
        raise MediaRejected(
            "truncated",
            f"{opened.path.name}: {what} ends at {reached_s:.2f} s but the file declares {declared:.2f} s",
        )
