"""Open untrusted media with every guard in place, and check what its header declares.

Guards, in order, before any decoder runs on the data:

1. size: refuse empty files and files above ``limits.max_bytes``;
2. content sniffing (`rushes_media.sniff`): playlists, scripts, manifests, images and archives;
3. the demuxer is fed from a Python file object, FFmpeg's ``format_whitelist`` restricts probing to
   ALLOWED_FORMATS, every nested open (a playlist entry, a QuickTime reference, a DASH segment) is
   refused by an ``io_open`` callback, and ``protocol_whitelist`` names no protocol at all;
4. ``max_pixels`` bounds the frames that stream probing may decode, ``max_streams`` the streams a
   demuxer may create, ``probesize``/``analyzeduration`` the bytes it reads, and an interrupt
   callback the wall-clock time;
5. header checks: stream count, tag bytes, dimensions, duration, frame rate, and (for QuickTime/MP4,
   whose sample table says where every sample lives) data past the end of the file.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO, Final

import av
import av.error
import av.logging
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream
from rushes_config import MediaLimits

from rushes_media.errors import MediaRejected
from rushes_media.sniff import ISO_BOX_TYPES, SNIFF_BYTES, sniff

# FFmpeg demuxer names accepted for footage. Camera originals and sound recorders: QuickTime/MP4
# family (incl. M4A and 3GP), Matroska/WebM, AVI, MXF (broadcast cameras), MPEG-TS (AVCHD .mts) and
# MPEG-PS (older camcorders, .mpg/.vob), DV, GXF, and the audio formats recorders write: WAV, W64,
# AIFF, CAF, FLAC, MP3, Ogg. Deliberately absent: every playlist/reference demuxer (hls, dash,
# concat, sdp, rtsp, ...), image demuxers (*_pipe, image2), raw elementary streams and text formats.
ALLOWED_FORMATS: Final[frozenset[str]] = frozenset(
    {
        "mov",
        "mp4",
        "m4a",
        "3gp",
        "3g2",
        "mj2",
        "matroska",
        "webm",
        "avi",
        "mxf",
        "mpegts",
        "mpeg",
        "dv",
        "gxf",
        "wav",
        "w64",
        "aiff",
        "caf",
        "flac",
        "mp3",
        "ogg",
    }
)
# Bytes and microseconds the demuxer may read while guessing stream parameters (FFmpeg's defaults,
# made explicit so a file cannot talk us into more).
PROBE_SIZE_BYTES: Final = 5_000_000
ANALYZE_DURATION_US: Final = 5_000_000

_PICTURE_SIZE_INVALID: Final = re.compile(r"Picture size (\d+)x(\d+) is invalid")

# FFmpeg's log is only routed into Python while a header is being opened (see _header_logs): the
# reasons it gives ("Picture size ... is invalid", "not on whitelist", "max_streams") make precise
# rejections. The rest of the time no log callback is installed, because PyAV's callback takes the
# GIL from FFmpeg's decoder threads: a frame-threaded decoder logging while another thread holds the
# GIL inside avcodec_free_context deadlocks the process (PyAV issues 751/909; seen under load in
# ingest). Repeat suppression is off because PyAV flushes "(repeated N more times)" into whichever
# capture is active when the next message arrives: one file's errors would leak into another's.
av.logging.set_level(None)
av.logging.set_skip_repeated(False)
_HEADER_LOGS_LOCK = threading.Lock()


@contextmanager
def _header_logs() -> Iterator[list[tuple[int, str, str]]]:
    """FFmpeg's ERROR messages while a header is opened; one opener at a time, callback off after."""
    with _HEADER_LOGS_LOCK:
        av.logging.set_level(av.logging.ERROR)
        try:
            with av.logging.Capture() as logs:
                yield logs
        finally:
            av.logging.set_level(None)


@dataclass
class OpenedMedia:
    """An open container whose header passed every limit, with the streams we will use."""

    container: InputContainer
    path: Path
    size_bytes: int
    duration_s: float
    video: VideoStream | None  # the main picture stream; None for audio-only files
    audio: list[av.audio.stream.AudioStream] = field(default_factory=list)
    deadline: float = 0.0  # time.monotonic() after which the job must stop
    position_s: float = 0.0  # presentation time of the last packet read, for error messages

    def check_deadline(self, code: str = "job_timeout") -> None:
        if time.monotonic() > self.deadline:
            raise MediaRejected(code, f"processing {self.path.name} took longer than its time limit")


def _refuse_nested_open(url: str, flags: int, options: dict[str, Any]) -> BinaryIO:
    """io_open callback: media that asks FFmpeg to open another URL or file is refused outright."""
    raise PermissionError(f"refused to open {url!r} referenced from inside the media")


def _check_size(path: Path, limits: MediaLimits) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise
    if not path.is_file():
        raise MediaRejected("not_media", f"{path.name} is not a regular file")
    if size == 0:
        raise MediaRejected("empty_file", f"{path.name} is empty (0 bytes)")
    if size > limits.max_bytes:
        raise MediaRejected(
            "too_large", f"{path.name} is {size} bytes; the limit is {limits.max_bytes} bytes"
        )
    return size


def _open_options(limits: MediaLimits) -> tuple[dict[str, str], dict[str, str]]:
    """(per-stream codec options used while probing, container options)."""
    codec_options = {"max_pixels": str(limits.max_width * limits.max_height)}
    container_options = {
        "format_whitelist": ",".join(sorted(ALLOWED_FORMATS)),
        "protocol_whitelist": "none",
        # One more than allowed: some demuxers silently drop streams past max_streams, and the
        # extra one is what lets _check_header see (and name) the excess.
        "max_streams": str(limits.max_streams + 1),
        "probesize": str(PROBE_SIZE_BYTES),
        "analyzeduration": str(ANALYZE_DURATION_US),
        "enable_drefs": "0",  # QuickTime: never follow data references to other files
        "use_absolute_path": "0",
        "export_xmp": "1",  # QuickTime: expose XMP so camera/lens tags can be read
    }
    return codec_options, container_options


def _rejection_from_open_error(
    exc: Exception, logs: list[tuple[int, str, str]], path: Path, head: bytes
) -> MediaRejected:
    """Turn a failed avformat_open_input/find_stream_info into a stable rejection code."""
    if (oversized := _oversized_picture(logs)) is not None:
        return oversized
    messages = [(name, message.strip()) for _level, name, message in logs]
    for name, message in messages:
        if "not on whitelist" in message:
            detected = name or "an unknown format"
            return MediaRejected(
                "unsupported_format",
                f"container format {detected!r} is not accepted "
                f"(accepted: {', '.join(sorted(ALLOWED_FORMATS))})",
            )
        if "max_streams" in message:
            return MediaRejected("too_many_streams", f"file declares more streams than the limit: {message}")
    if isinstance(exc, av.error.ExitError | av.error.TimeoutError):
        return MediaRejected("probe_timeout", f"reading the header of {path.name} took too long")
    if isinstance(exc, av.error.EOFError):
        return MediaRejected("truncated", f"{path.name} ends inside its header")
    if isinstance(exc, PermissionError):
        return MediaRejected("playlist_or_reference", f"{path.name} refers to other files or URLs")
    if isinstance(exc, av.error.InvalidDataError | av.error.DemuxerNotFoundError):
        if head[4:8] in ISO_BOX_TYPES:
            # It starts like a real QuickTime/MP4 file (random bytes named .mp4 do not): a cut file
            # whose index (moov, written last by most cameras) never made it.
            return MediaRejected("truncated", f"{path.name} is an MP4/QuickTime file that is cut short")
        return MediaRejected("not_media", f"no supported audio/video format recognised in {path.name}")
    detail = messages[-1][1] if messages else str(exc)
    return MediaRejected("not_media", f"{path.name} could not be opened as media: {detail}")


def _metadata_bytes(container: InputContainer) -> int:
    total = sum(len(k) + len(v) for k, v in container.metadata.items())
    for stream in container.streams:
        total += sum(len(k) + len(v) for k, v in stream.metadata.items())
    return total


def _is_picture_stream(stream: VideoStream) -> bool:
    """Cover art in MP3/M4A/FLAC is a 'video' stream with one frame; it is not footage."""
    return not (stream.disposition & Disposition.attached_pic)


def stream_fps(stream: VideoStream) -> float:
    """avg_frame_rate, falling back to r_frame_rate (the container's base rate), then 0."""
    for rate in (stream.average_rate, stream.base_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return 0.0


def _duration_s(container: InputContainer) -> float:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    longest = 0.0
    for stream in container.streams:
        if stream.duration and stream.time_base:
            longest = max(longest, float(stream.duration * stream.time_base))
    return longest


def _select_video(container: InputContainer, path: Path) -> VideoStream | None:
    pictures = [s for s in container.streams.video if _is_picture_stream(s)]
    decodable = [s for s in pictures if s.codec_context is not None]
    if pictures and not decodable:
        raise MediaRejected(
            "unsupported_codec",
            f"no decoder for the video stream of {path.name} (its codec is unknown to this build)",
        )
    if not decodable:
        return None
    defaults = [s for s in decodable if s.disposition & Disposition.default]
    return (defaults or decodable)[0]


def _check_truncated_index(container: InputContainer, size: int, path: Path) -> None:
    """QuickTime/MP4 sample tables give each sample's byte offset: data past EOF means a cut file."""
    if "mov" not in container.format.name.split(","):
        return
    end = 0
    for stream in container.streams:
        entries = stream.index_entries
        if entries is not None and len(entries):
            last = entries[len(entries) - 1]
            end = max(end, last.pos + last.size)
    if end > size:
        raise MediaRejected(
            "truncated",
            f"{path.name} is {size} bytes but its index describes {end} bytes: the file is cut short",
        )


def _check_header(opened: OpenedMedia, limits: MediaLimits) -> None:
    container, path = opened.container, opened.path
    if container.format.name not in ALLOWED_FORMATS and not (
        set(container.format.name.split(",")) & ALLOWED_FORMATS
    ):
        raise MediaRejected(
            "unsupported_format", f"container format {container.format.name!r} is not accepted"
        )
    if len(container.streams) > limits.max_streams:
        raise MediaRejected(
            "too_many_streams",
            f"at least {len(container.streams)} streams; the limit is {limits.max_streams}",
        )
    metadata_bytes = _metadata_bytes(container)
    if metadata_bytes > limits.max_metadata_bytes:
        raise MediaRejected(
            "metadata_too_large",
            f"tags hold {metadata_bytes} bytes; the limit is {limits.max_metadata_bytes}",
        )
    for stream in container.streams.video:
        width, height = _stream_size(stream)
        if width > limits.max_width or height > limits.max_height:
            raise MediaRejected(
                "dimensions_exceed_limit",
                f"video stream {stream.index} declares {width}x{height}; "
                f"the limit is {limits.max_width}x{limits.max_height}",
            )
    if opened.duration_s > limits.max_duration_s:
        raise MediaRejected(
            "duration_exceeds_limit",
            f"duration {opened.duration_s:.0f} s is above the limit of {limits.max_duration_s:.0f} s",
        )
    if opened.video is not None:
        fps = stream_fps(opened.video)
        if fps > limits.max_fps:
            raise MediaRejected(
                "frame_rate_exceeds_limit", f"frame rate {fps:g} fps is above the limit of {limits.max_fps:g}"
            )
        if min(_stream_size(opened.video)) <= 0:
            raise MediaRejected("decode_error", f"the video stream of {path.name} has no usable frame size")
    if opened.video is None and not opened.audio:
        raise MediaRejected("no_streams", f"{path.name} holds no audio or video stream")
    _check_truncated_index(container, opened.size_bytes, path)


def _stream_size(stream: VideoStream) -> tuple[int, int]:
    """(width, height), (0, 0) when the stream has no decoder context to read them from (a header
    can declare a video stream FFmpeg cannot open a codec for; PyAV then raises AttributeError)."""
    try:
        return int(stream.width or 0), int(stream.height or 0)
    except (AttributeError, TypeError, ValueError):
        return 0, 0


def _oversized_picture(logs: list[tuple[int, str, str]]) -> MediaRejected | None:
    """FFmpeg refuses frames above max_pixels while probing and leaves the stream at 0x0: say why."""
    for _level, _name, message in logs:
        if (match := _PICTURE_SIZE_INVALID.search(message)) is not None:
            return MediaRejected(
                "dimensions_exceed_limit", f"video declares {match[1]}x{match[2]} pixels, above the limit"
            )
    return None


@contextmanager
def open_untrusted(
    path: Path, limits: MediaLimits, *, time_limit_s: float | None = None
) -> Iterator[OpenedMedia]:
    """Open `path` behind every guard, check its header against `limits`, and yield it.

    Opening is bounded by limits.probe_timeout_s; `time_limit_s` (default limits.job_timeout_s) sets
    the deadline that OpenedMedia.check_deadline enforces for the rest of the job. Raises
    MediaRejected for anything that is the file's fault.
    """
    path = Path(path)
    started = time.monotonic()
    size = _check_size(path, limits)
    codec_options, container_options = _open_options(limits)
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        sniff(head)
        handle.seek(0)
        with _header_logs() as logs:
            try:
                container = av.open(
                    handle,
                    "r",
                    options=codec_options,
                    container_options=container_options,
                    metadata_errors="replace",
                    timeout=(limits.probe_timeout_s, limits.probe_timeout_s),
                    io_open=_refuse_nested_open,
                )
            except (av.error.FFmpegError, PermissionError, ValueError, UnicodeError) as exc:
                raise _rejection_from_open_error(exc, list(logs), path, head) from exc
            open_logs = list(logs)
        try:
            if time.monotonic() - started > limits.probe_timeout_s:
                raise MediaRejected("probe_timeout", f"reading the header of {path.name} took too long")
            if (oversized := _oversized_picture(open_logs)) is not None:
                raise oversized
            opened = OpenedMedia(
                container=container,
                path=path,
                size_bytes=size,
                duration_s=_duration_s(container),
                video=_select_video(container, path),
                audio=[s for s in container.streams.audio if s.codec_context is not None],
                deadline=started + (time_limit_s if time_limit_s is not None else limits.job_timeout_s),
            )
            _check_header(opened, limits)
            yield opened
        finally:
            container.close()


def rational_str(value: Fraction | None, default: str = "1:1") -> str:
    """Fraction(16, 11) -> "16:11"; None or a non-positive value -> default."""
    if value is None or value <= 0:
        return default
    return f"{value.numerator}:{value.denominator}"
