"""The review proxy: H.264/AAC MP4, upright, square pixels, at most 720p, and (optionally) the ASR WAV.

Equivalent ffmpeg command line (what bench/ compares against)::

    ffmpeg -i SRC -vf "scale=W:H:flags=bicubic,<transpose>,setsar=1,format=yuv420p" \
        -c:v libx264 -preset fast -crf 23 -c:a aac -b:a 128k -movflags +faststart OUT.mp4

Rotation is applied to the pixels (the proxy carries no display matrix), so every player, browser
and frame-analysis stage downstream sees upright pictures without honouring side data.
"""

from __future__ import annotations

import contextlib
import wave
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.filter import Graph
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from rushes_config import MediaLimits

from rushes_media.atomic import atomic_output
from rushes_media.decoding import (
    build_video_graph,
    check_reached_end,
    decode_errors,
    enable_threads,
    main_audio,
)
from rushes_media.errors import MediaRejected
from rushes_media.safe_open import OpenedMedia, open_untrusted, stream_fps

X264_OPTIONS: Final[dict[str, str]] = {"preset": "fast", "crf": "23"}
AAC_RATES: Final = frozenset(
    {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000}
)
# Decoded audio frames held back while waiting for the first picture (about a minute at 48 kHz).
MAX_PENDING_FRAMES: Final = 3000


def _aspect_box(max_height: int) -> tuple[int, int]:
    """A max_height tall, 16:9 box: 720 -> 1280x720. Portrait footage fits its height (404x720)."""
    if max_height < 16:
        raise ValueError(f"max_height must be at least 16, got {max_height}")
    return round(max_height * 16 / 9), max_height


class _WavSink:
    """16-bit PCM at `sample_rate`, written through the stdlib wave module (no muxer needed): mono,
    or (keep_channels) every source channel kept apart, interleaved, for per-speaker ASR."""

    def __init__(self, path: Path, sample_rate: int, *, keep_channels: int = 0) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self.channels = keep_channels or 1
        self.resampler: AudioResampler | None = (
            None if keep_channels else AudioResampler(format="s16", layout="mono", rate=sample_rate)
        )
        self.writer = wave.open(str(path), "wb")  # noqa: SIM115 - closed in close()
        self.writer.setnchannels(self.channels)
        self.writer.setsampwidth(2)
        self.writer.setframerate(sample_rate)
        self.samples = 0

    def write(self, frame: AudioFrame | None) -> None:
        if self.resampler is None:
            if frame is None:
                return
            # The source's own layout, so channels stay where the recorder put them.
            self.resampler = AudioResampler(format="s16", layout=frame.layout.name, rate=self.sample_rate)
        for out in self.resampler.resample(frame):
            self.samples += out.samples
            self.writer.writeframes(bytes(out.planes[0])[: out.samples * 2 * self.channels])

    def close(self) -> None:
        self.writer.close()


MAX_KEPT_CHANNELS = 16  # a multitrack field recorder; more is not speech to transcribe apart


class _ProxyWriter:
    """Owns the output container. Streams are added video first, then audio; nothing is muxed before
    both exist (the MP4 header lists every track), so early audio waits for the first picture."""

    def __init__(self, path: Path, opened: OpenedMedia, audio: AudioStream | None, max_height: int) -> None:
        self.output: OutputContainer = av.open(
            str(path), "w", format="mp4", options={"movflags": "+faststart"}
        )
        self.opened = opened
        self.audio_source = audio
        self.max_width, self.max_height = _aspect_box(max_height)
        self.video_out: VideoStream | None = None
        self.audio_out: AudioStream | None = None
        self.graph: Graph | None = None
        self.started = False
        self.pending_audio: list[AudioFrame] = []
        if opened.video is None:
            self._start_audio()

    def _start_audio(self) -> None:
        self.started = True
        if self.audio_source is None:
            return
        context = self.audio_source.codec_context
        rate = context.sample_rate if context.sample_rate in AAC_RATES else 48000
        layout = "stereo" if (context.channels or 2) >= 2 else "mono"
        self.audio_out = self.output.add_stream("aac", rate=rate, layout=layout)
        self.audio_out.bit_rate = 128_000 if layout == "stereo" else 96_000
        pending, self.pending_audio = self.pending_audio, []
        for frame in pending:
            self.add_audio(frame)

    def _start_video(self, frame: VideoFrame, source: VideoStream) -> None:
        self.graph, scaling = build_video_graph(
            frame, source, max_width=self.max_width, max_height=self.max_height, pix_fmt="yuv420p"
        )
        fps = stream_fps(source) or 25.0
        rate = Fraction(fps).limit_denominator(1001)
        stream = self.output.add_stream("libx264", rate=rate, options=dict(X264_OPTIONS))
        stream.width, stream.height, stream.pix_fmt = scaling.width, scaling.height, "yuv420p"
        time_base = source.time_base or Fraction(1, 90000)
        stream.codec_context.time_base = time_base  # keep source timestamps: VFR stays VFR
        stream.time_base = time_base
        stream.codec_context.thread_count = 0  # x264 picks its thread count from the cores
        self.video_out = stream
        self._start_audio()

    def add_video(self, frame: VideoFrame, source: VideoStream) -> None:
        if self.graph is None:
            self._start_video(frame, source)
        assert self.graph is not None and self.video_out is not None
        self.graph.vpush(frame)
        while True:
            try:
                out = self.graph.vpull()
            except (av.error.BlockingIOError, av.error.EOFError):
                break
            self.output.mux(self.video_out.encode(out))

    def add_audio(self, frame: AudioFrame | None) -> None:
        if not self.started:
            if frame is not None:
                self.pending_audio.append(frame)
                if len(self.pending_audio) > MAX_PENDING_FRAMES:
                    raise MediaRejected(
                        "decode_error", "no picture could be decoded near the start of the file"
                    )
            return
        if self.audio_out is not None:
            self.output.mux(self.audio_out.encode(frame))

    def finish(self) -> None:
        if not self.started:
            raise MediaRejected("decode_error", f"{self.opened.path.name}: no picture could be decoded")
        if self.video_out is not None:
            self.output.mux(self.video_out.encode(None))
        self.add_audio(None)
        self.output.close()

    def abort(self) -> None:
        # The half-written file is deleted by atomic_output; only release the muxer here.
        with contextlib.suppress(av.error.FFmpegError):
            self.output.close()


def _timeline_origin(opened: OpenedMedia) -> float:
    """Seconds subtracted from every timestamp so the proxy starts at zero with streams kept in sync."""
    start = opened.container.start_time
    return start / av.time_base if start is not None and start > 0 else 0.0


def _derive(
    path: Path,
    proxy_path: Path | None,
    wav_path: Path | None,
    *,
    max_height: int,
    sample_rate: int,
    limits: MediaLimits,
    channels_wav_path: Path | None = None,
) -> bool:
    """One demux/decode pass feeding the proxy writer and/or the WAV sinks. True when audio was found."""
    with ExitStack() as stack, open_untrusted(path, limits) as opened:
        audio = main_audio(opened)
        video = opened.video if proxy_path is not None else None
        if proxy_path is None and audio is None:
            return False
        writer = None
        if proxy_path is not None:
            temp_proxy = stack.enter_context(atomic_output(proxy_path))
            writer = _ProxyWriter(temp_proxy, opened, audio, max_height)
            stack.callback(writer.abort)
        sinks: list[_WavSink] = []
        if wav_path is not None and audio is not None:
            temp_wav = stack.enter_context(atomic_output(wav_path))
            sinks.append(_WavSink(temp_wav, sample_rate))
            stack.callback(sinks[-1].close)
        channels = audio.codec_context.channels if audio is not None else 0
        if channels_wav_path is not None and audio is not None and 2 <= channels <= MAX_KEPT_CHANNELS:
            temp_channels = stack.enter_context(atomic_output(channels_wav_path))
            sinks.append(_WavSink(temp_channels, sample_rate, keep_channels=channels))
            stack.callback(sinks[-1].close)
        for stream in opened.container.streams:
            if stream not in (video, audio):
                stream.discard = av.stream.Discard.all
        if video is not None:
            enable_threads(video)
        origin_s = _timeline_origin(opened)
        reached_s = _pump(opened, video, audio, writer, sinks, origin_s)
        check_reached_end(opened, reached_s, "the decodable data")
        if writer is not None:
            with decode_errors(opened, "output"):
                writer.finish()
        for sink in sinks:
            sink.write(None)
            sink.close()
        return audio is not None


def _pump(
    opened: OpenedMedia,
    video: VideoStream | None,
    audio: AudioStream | None,
    writer: _ProxyWriter | None,
    sinks: list[_WavSink],
    origin_s: float,
) -> float:
    """Demux and decode everything; return the latest presentation time reached, in seconds."""
    selected = [s for s in (video, audio) if s is not None]
    reached_s = 0.0  # the furthest any stream got: a short audio track alone is not truncation
    last_video_pts: int | None = None
    video_time_base = (video.time_base if video is not None else None) or Fraction(1, 90000)
    video_origin = round(origin_s / video_time_base) if video is not None else 0
    audio_next_pts: int | None = None
    with decode_errors(opened, "video" if video is not None else "audio"):
        for packet in opened.container.demux(selected):
            opened.check_deadline()
            if packet.pts is not None and packet.time_base:
                opened.position_s = float(packet.pts * packet.time_base) - origin_s
            if video is not None and packet.stream.index == video.index:
                for frame in video.decode(packet):
                    if frame.pts is not None:
                        pts = frame.pts - video_origin
                    else:  # no timestamp (some AVI/raw streams): the next tick after the last frame
                        pts = (last_video_pts if last_video_pts is not None else -1) + 1
                    if last_video_pts is not None and pts <= last_video_pts:
                        continue  # duplicate or backwards timestamp: the encoder needs increasing pts
                    last_video_pts = frame.pts = pts
                    if writer is not None:
                        writer.add_video(frame, video)
                    duration = frame.duration or 0
                    reached_s = max(reached_s, float((pts + duration) * video_time_base))
            elif audio is not None:
                for sound in audio.decode(packet):
                    if audio_next_pts is None:
                        known = sound.pts is not None and sound.time_base is not None
                        start = float(sound.pts * sound.time_base) - origin_s if known else 0.0  # type: ignore[operator]
                        audio_next_pts = max(0, round(start * sound.sample_rate))
                    # A sample counter, not the container's timestamps: jitter-free and gapless.
                    sound.pts, sound.time_base = audio_next_pts, Fraction(1, sound.sample_rate)
                    audio_next_pts += sound.samples
                    if writer is not None:
                        writer.add_audio(sound)
                    for sink in sinks:
                        sink.write(sound)
                    reached_s = max(reached_s, audio_next_pts / sound.sample_rate)
    return reached_s


def make_proxy(
    path: Path, out_path: Path, *, max_height: int = 720, limits: MediaLimits | None = None
) -> None:
    """Write the review proxy of `path` to `out_path` (see the module docstring for its format).

    Fits a 16:9 box max_height tall (1280x720 by default), never upscales, applies the sample aspect
    ratio (square-pixel output), rotates pixels upright, keeps the source timestamps (VFR stays VFR),
    AAC audio when the source has sound; audio-only sources give an audio-only MP4. Raises
    MediaRejected ("truncated", "decode_error", "job_timeout", or any probe code); never leaves a
    partial file at `out_path`.
    """
    _derive(
        Path(path),
        Path(out_path),
        None,
        max_height=max_height,
        sample_rate=16000,
        limits=limits or MediaLimits(),
    )


def make_proxy_and_wav(
    path: Path,
    proxy_path: Path,
    wav_path: Path,
    *,
    max_height: int = 720,
    sample_rate: int = 16000,
    limits: MediaLimits | None = None,
    channels_wav_path: Path | None = None,
) -> bool:
    """make_proxy and extract_audio_wav in one decode pass (ingest's fast path). True when audio exists."""
    return _derive(
        Path(path),
        Path(proxy_path),
        Path(wav_path),
        max_height=max_height,
        sample_rate=sample_rate,
        limits=limits or MediaLimits(),
        channels_wav_path=Path(channels_wav_path) if channels_wav_path is not None else None,
    )


def extract_audio_wav(
    path: Path,
    out_path: Path,
    *,
    sample_rate: int = 16000,
    limits: MediaLimits | None = None,
    channels_wav_path: Path | None = None,
) -> bool:
    """Main audio track -> mono 16-bit PCM WAV at `sample_rate` (16 kHz for ASR), and, when
    `channels_wav_path` is given and the track has 2-16 channels, a second WAV keeping every
    channel apart (lavalier mics on separate channels are transcribed per speaker).

    Returns False, writing nothing, when the file has no audio. Downmixing and resampling go through
    PyAV's AudioResampler (libswresample).
    """
    if not 1000 <= sample_rate <= 192_000:
        raise ValueError(f"sample_rate must be within 1000..192000 Hz, got {sample_rate}")
    return _derive(
        Path(path),
        None,
        Path(out_path),
        max_height=720,
        sample_rate=sample_rate,
        limits=limits or MediaLimits(),
        channels_wav_path=Path(channels_wav_path) if channels_wav_path is not None else None,
    )
