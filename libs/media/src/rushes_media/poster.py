"""The poster frame: one upright, display-aspect-correct JPEG for catalogs and review pages."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import av.error
from av.codec.context import CodecContext
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from rushes_config import MediaLimits

from rushes_media.atomic import atomic_output
from rushes_media.decoding import build_video_graph, decode_errors, enable_threads
from rushes_media.errors import MediaRejected
from rushes_media.safe_open import OpenedMedia, open_untrusted

POSTER_MAX_SIZE: Final = 1280  # longest side: 1280 wide for landscape, 1280 tall for portrait
JPEG_QSCALE: Final = 3  # mjpeg quantiser, 2 (best) .. 31; 3 is visually clean at a few hundred KB
MAX_DECODED_FRAMES: Final = 2000  # frames decoded after a seek before we settle for what we have


def _frame_at(opened: OpenedMedia, stream: VideoStream, target_s: float) -> VideoFrame | None:
    """The first frame at or after target_s, else the last one decoded before the end."""
    time_base = stream.time_base or Fraction(1, 90000)
    chosen: VideoFrame | None = None
    if target_s > 0:
        try:
            opened.container.seek(round(target_s / time_base), stream=stream, backward=True)
        except av.error.FFmpegError:
            opened.container.seek(0)  # unseekable: decode from the start instead
    with decode_errors(opened, "video"):
        for count, frame in enumerate(opened.container.decode(stream)):
            opened.check_deadline()
            chosen = frame
            if frame.pts is None or frame.pts * time_base >= target_s or count >= MAX_DECODED_FRAMES:
                break
    return chosen


def _encode_jpeg(frame: VideoFrame) -> bytes:
    encoder = CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = frame.width, frame.height, "yuvj420p"
    encoder.time_base = Fraction(1, 25)  # required by the encoder API; meaningless for one still
    encoder.qscale = True
    encoder.global_quality = JPEG_QSCALE * 118  # FF_QP2LAMBDA: FFmpeg's lambda per quantiser step
    frame.pts = None
    packets = encoder.encode(frame) + encoder.encode(None)
    return b"".join(bytes(p) for p in packets)


def make_poster(
    path: Path, out_path: Path, *, at_fraction: float = 0.1, limits: MediaLimits | None = None
) -> None:
    """Write a JPEG of the frame at `at_fraction` of the duration (or the first decodable frame).

    Applies the sample aspect ratio and the display rotation, fits 1280x1280 without upscaling.
    Audio-only input raises MediaRejected("no_streams"); never leaves a partial file at `out_path`.
    """
    if not 0.0 <= at_fraction <= 1.0:
        raise ValueError(f"at_fraction must be within 0..1, got {at_fraction}")
    limits = limits or MediaLimits()
    with open_untrusted(Path(path), limits) as opened:
        stream = opened.video
        if stream is None:
            raise MediaRejected("no_streams", f"{opened.path.name} has no video stream to take a poster from")
        enable_threads(stream)
        frame = _frame_at(opened, stream, opened.duration_s * at_fraction)
        if frame is None:
            # The seek landed past the last keyframe, or the tail does not decode: take the first frame.
            opened.container.seek(0)
            frame = _frame_at(opened, stream, 0.0)
        if frame is None:
            raise MediaRejected("decode_error", f"{opened.path.name}: no picture could be decoded")
        graph, _scaling = build_video_graph(
            frame, stream, max_width=POSTER_MAX_SIZE, max_height=POSTER_MAX_SIZE, pix_fmt="yuvj420p"
        )
        graph.vpush(frame)
        upright = graph.vpull()
        data = _encode_jpeg(upright)
        with atomic_output(Path(out_path)) as temp_path:
            temp_path.write_bytes(data)
