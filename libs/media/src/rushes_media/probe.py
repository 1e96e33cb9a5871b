"""probe(): technical metadata of untrusted media, read after every header limit has passed."""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import av.error
from av.video.stream import VideoStream
from rushes.asset.v1.asset_pb2 import AudioStream, Camera, Technical
from rushes_config import MediaLimits

from rushes_media.colors import (
    COLOR_PRIMARIES,
    COLOR_RANGES,
    COLOR_SPACES,
    COLOR_TRANSFERS,
    bit_depth,
    color_name,
)
from rushes_media.decoding import check_reached_end
from rushes_media.errors import MediaRejected
from rushes_media.safe_open import OpenedMedia, open_untrusted, rational_str, stream_fps
from rushes_media.tags import camera_from_tags, first_timecode, lower_keys, parse_creation_time

# Packets whose timestamps decide constant vs variable frame rate.
VFR_SAMPLE_PACKETS: Final = 240
REORDER_WINDOW: Final = 16  # H.264/HEVC reorder at most 16 frames
# Files up to this size without a frame count in their header get their video packets counted
# (reading the whole file); larger ones use duration * fps.
COUNT_PACKETS_MAX_BYTES: Final = 512 * 1024 * 1024
# Packets we are willing to feed the decoder before giving up on a first frame.
FIRST_FRAME_MAX_PACKETS: Final = 500


@dataclass
class _VideoScan:
    rotation: int = 0
    decoded: bool = False
    packet_count: int = 0
    counted_all: bool = False
    end_s: float = 0.0  # latest packet end time seen (presentation time, seconds)
    timestamps: list[int] = field(default_factory=list)


def _display_rotation(frame_rotation: int) -> int:
    """PyAV reports the display matrix counter-clockwise; the record wants clockwise 0/90/180/270.

    A phone held upright writes -90 (ffprobe: "rotation of -90.00 degrees"), which players show by
    turning the picture 90 degrees clockwise: that is rotation 90 here, as the old "rotate" tag said.
    """
    return (round(-frame_rotation / 90) * 90) % 360


def _scan_video(opened: OpenedMedia, stream: VideoStream, count_all: bool) -> _VideoScan:
    """One demux pass: decode the first frame, collect early timestamps, optionally count packets.

    Audio packets are read too (not decoded) so that, when the whole file is read, "where the data
    ends" is the furthest of any stream: a short video track beside full-length sound is not a cut.
    """
    scan = _VideoScan()
    container = opened.container
    wanted = [stream, *opened.audio]
    for other in container.streams:
        if other not in wanted:
            other.discard = av.stream.Discard.all  # the demuxer may skip their payload
    try:
        for packet in container.demux(wanted):
            opened.check_deadline("probe_timeout")
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is not None and packet.time_base:
                scan.end_s = max(scan.end_s, float((stamp + (packet.duration or 0)) * packet.time_base))
            if packet.stream.index != stream.index:
                continue
            if packet.size == 0 and stamp is None:
                # The flush packet at EOF: drain the decoder for a first frame.
                if not scan.decoded:
                    frames = stream.codec_context.decode(None)
                    if frames:
                        scan.decoded, scan.rotation = True, _display_rotation(frames[0].rotation)
                scan.counted_all = True
                break
            scan.packet_count += 1
            if stamp is not None and len(scan.timestamps) < VFR_SAMPLE_PACKETS:
                scan.timestamps.append(stamp)
            if not scan.decoded:
                if scan.packet_count > FIRST_FRAME_MAX_PACKETS:
                    raise MediaRejected(
                        "decode_error",
                        f"no picture decoded from the first {FIRST_FRAME_MAX_PACKETS} video packets",
                    )
                frames = stream.codec_context.decode(packet)
                if frames:
                    scan.decoded, scan.rotation = True, _display_rotation(frames[0].rotation)
            if scan.decoded and not count_all and len(scan.timestamps) >= VFR_SAMPLE_PACKETS:
                break
    except av.error.EOFError as exc:
        raise MediaRejected("truncated", f"the video data ends early: {exc}") from exc
    except av.error.FFmpegError as exc:
        raise MediaRejected("decode_error", f"the video stream could not be decoded: {exc}") from exc
    if not scan.decoded:
        raise MediaRejected("truncated", "the video stream holds no decodable picture")
    if scan.counted_all:
        start = (
            container.start_time / av.time_base if container.start_time and container.start_time > 0 else 0.0
        )
        check_reached_end(opened, scan.end_s - start, "the data")
    return scan


def _is_variable_rate(timestamps: list[int]) -> bool:
    """True when frame intervals differ by more than rounding: max(2 ticks, 0.5%) from the median.

    Timestamps are sorted first because B-frames arrive out of presentation order. Millisecond
    time bases (Matroska) alternate 33/34 ticks at 29.97 fps, which the 2-tick tolerance absorbs.
    """
    # Packets arrive in decode order; the last few presentation times of the window may still have
    # earlier ones outstanding (B-frame reordering), so the top REORDER_WINDOW values are not used.
    ordered = sorted(set(timestamps))
    if len(timestamps) >= VFR_SAMPLE_PACKETS:
        ordered = ordered[:-REORDER_WINDOW]
    deltas = [b - a for a, b in itertools.pairwise(ordered)]
    if len(deltas) < 3:
        return False
    median = statistics.median(deltas)
    tolerance = max(2.0, 0.005 * median)
    return any(abs(delta - median) > tolerance for delta in deltas)


def _check_audio_decodes(opened: OpenedMedia) -> None:
    """For audio-only files: prove the main track decodes (a frame within the first packets)."""
    stream = opened.audio[0]
    try:
        for count, packet in enumerate(opened.container.demux(stream)):
            opened.check_deadline("probe_timeout")
            if stream.codec_context.decode(packet) or count > FIRST_FRAME_MAX_PACKETS:
                return
            if packet.size == 0 and packet.pts is None:
                break
    except av.error.EOFError as exc:
        raise MediaRejected("truncated", f"the audio data ends early: {exc}") from exc
    except av.error.FFmpegError as exc:
        raise MediaRejected("decode_error", f"the audio stream could not be decoded: {exc}") from exc
    raise MediaRejected("truncated", "the audio stream holds no decodable samples")


def _container_name(opened: OpenedMedia) -> str:
    """A short, familiar name: "mov" or "mp4" for the QuickTime family, else FFmpeg's first name."""
    names = opened.container.format.name.split(",")
    if names[0] == "mov":
        brand = opened.container.metadata.get("major_brand", "").strip().lower()
        return "mov" if brand in {"qt", ""} else ("m4a" if brand.startswith("m4a") else "mp4")
    return names[0]


def _aspect(width: int, height: int, sar: Fraction | None) -> str:
    if width <= 0 or height <= 0:
        return ""
    return rational_str(Fraction(width, height) * (sar if sar and sar > 0 else 1), default="")


def _fill_video(technical: Technical, opened: OpenedMedia, stream: VideoStream, count_all: bool) -> None:
    context = stream.codec_context
    fps = stream_fps(stream)
    scan = _scan_video(opened, stream, count_all=count_all)
    technical.has_video = True
    technical.width, technical.height = stream.width, stream.height
    technical.fps = fps
    technical.rotation = scan.rotation
    technical.sample_aspect_ratio = rational_str(stream.sample_aspect_ratio)
    technical.display_aspect_ratio = _aspect(stream.width, stream.height, stream.sample_aspect_ratio)
    technical.video_codec = context.name
    technical.pix_fmt = context.pix_fmt or ""
    technical.bit_depth = bit_depth(context.pix_fmt)
    technical.color_space = color_name(COLOR_SPACES, context.colorspace)
    technical.color_primaries = color_name(COLOR_PRIMARIES, context.color_primaries)
    technical.color_transfer = color_name(COLOR_TRANSFERS, context.color_trc)
    technical.color_range = color_name(COLOR_RANGES, context.color_range)
    technical.variable_frame_rate = _is_variable_rate(scan.timestamps)
    if stream.frames > 0:
        # The container's own count (QuickTime/MP4 sample table, AVI header): exact, no reading.
        technical.frame_count = stream.frames
    elif scan.counted_all:
        # No count in the header (Matroska, MPEG-TS): we demuxed every video packet above.
        technical.frame_count = scan.packet_count
    else:
        # Too large to read just for a count: an estimate from the declared duration.
        technical.frame_count = round(technical.duration_s * fps) if fps > 0 else 0


def _layout_name(layout: av.AudioLayout | None, channels: int) -> str:
    """FFmpeg's layout name; an undeclared layout ("2 channels") is "" except mono, which is certain."""
    if layout is None:
        return ""
    if layout.name.endswith(" channels"):
        return "mono" if channels == 1 else ""
    return layout.name


def _fill_audio(technical: Technical, opened: OpenedMedia) -> None:
    for stream in opened.audio:
        context = stream.codec_context
        layout = context.layout
        duration_s = (
            float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        )
        technical.audio.append(
            AudioStream(
                codec=context.name,
                channels=context.channels or (layout.nb_channels if layout is not None else 0),
                sample_rate=context.sample_rate or 0,
                index=stream.index,
                duration_s=duration_s,
                channel_layout=_layout_name(layout, context.channels),
            )
        )


def probe(path: Path, limits: MediaLimits) -> Technical:
    """Technical metadata of `path`. Raises MediaRejected (see REJECTION_CODES) for unusable input.

    Everything the header declares is checked against `limits` before the first frame is decoded;
    the whole probe (opening, the first decoded frame, an optional packet count) is bounded by
    limits.probe_timeout_s.
    """
    with open_untrusted(Path(path), limits, time_limit_s=limits.probe_timeout_s) as opened:
        container = opened.container
        technical = Technical(
            duration_s=opened.duration_s,
            container=_container_name(opened),
            bit_rate=max(container.bit_rate or 0, 0),
        )
        streams_tags = [s.metadata for s in container.streams]
        video_tags = opened.video.metadata if opened.video is not None else {}
        all_tags = lower_keys(container.metadata, video_tags, *streams_tags)
        camera = camera_from_tags(all_tags)
        technical.camera.CopyFrom(Camera(**camera))
        technical.timecode = first_timecode(
            [video_tags, *(s.metadata for s in container.streams.data), container.metadata, *streams_tags]
        )
        technical.creation_time_unix = parse_creation_time(all_tags)
        _fill_audio(technical, opened)
        if opened.video is not None:
            count_all = opened.video.frames <= 0 and opened.size_bytes <= COUNT_PACKETS_MAX_BYTES
            _fill_video(technical, opened, opened.video, count_all=count_all)
        else:
            _check_audio_decodes(opened)
        if not math.isfinite(technical.duration_s) or technical.duration_s < 0:
            technical.duration_s = 0.0
        return technical
