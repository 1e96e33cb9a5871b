"""Tagging one video: shot boundaries, then per-shot analysis, then the asset's tag record.

Pure domain logic around PyAV, NumPy and the two detectors (no gRPC, no NATS, no object store).
Face detection is a Triton model, so the job is split where it needs the network:

1. `scan()` (blocking, run in a thread): ONE decode pass feeds every frame to the shot detector
   (rushes_tagging.shots) and to a ClipRecording (camera motion of every frame, full statistics
   and a spooled picture of sampled frames); once the shots are known each shot's ShotAnalyzer
   replays its frames from the recording, and a few sampled pictures per shot are kept for the
   face detector.
2. the caller runs face detection on `Scan.face_samples` (async, Triton);
3. `finish()` (blocking): every shot's decisions, keyframe JPEGs and enhancement flags.

Decoding once matters: decode is most of the cost (bench/tagging.py measures tagging against
pure decode of the same file). The recording keeps memory bounded: a few numbers per frame, and
the sampled pictures in a temporary file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from google.protobuf import struct_pb2
from rushes.asset.v1 import asset_pb2
from rushes_config import MediaLimits
from rushes_media import MediaRejected
from rushes_media.decoding import decode_errors, enable_threads
from rushes_media.planes import plane_array
from rushes_media.safe_open import open_untrusted

from rushes_tagging.analysis import (
    ClipRecording,
    Decision,
    FaceBox,
    ShotAnalysis,
    ShotAnalyzer,
    audio_tempo,
)
from rushes_tagging.analysis.speech import VAD_SAMPLE_RATE, speech_fraction, speech_spans
from rushes_tagging.presets import Preset
from rushes_tagging.shots import ShotResult
from rushes_tagging.shots.features import upright_turns
from rushes_tagging.shots.video import StreamingDetection

ANALYSIS_WIDTH = 480
_PLANAR_8BIT_YUV = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"})
FACE_FRAMES_PER_SHOT = 3
METADATA_MODEL = "rushes.metadata"
METADATA_VERSION = "1.0.0"


@dataclass
class Scan:
    shots: ShotResult
    analyzers: list[ShotAnalyzer]
    # shot index -> [(frame index, analysis-size BGR frame)] to run the face detector on
    face_samples: dict[int, list[tuple[int, np.ndarray]]] = field(default_factory=dict)


@dataclass
class TaggedShot:
    shot: asset_pb2.Shot
    keyframe_jpeg: bytes


def analysis_size(width: int, height: int, sar: Fraction | None, turns: int) -> tuple[int, int]:
    """Display-shaped (SAR applied, upright), ANALYSIS_WIDTH wide, even sides."""
    display_w = width * float(sar) if sar else float(width)
    if turns % 2:
        display_w, height = float(height), round(display_w)
    out_w = min(ANALYSIS_WIDTH, max(32, round(display_w)))
    out_h = max(32, round(height * out_w / display_w))
    return out_w - out_w % 2, out_h - out_h % 2


def scan(path: Path, technical: asset_pb2.Technical, preset: Preset, limits: MediaLimits) -> Scan:
    """Decode the video once: every frame feeds the shot detector and the clip recording; then
    each shot's analyzer replays its frames from the recording."""
    if not technical.has_video:
        raise MediaRejected("no_video", "tagging needs a picture: this asset is audio only")
    config = preset.analysis_config()
    recording = ClipRecording(config)
    try:
        shots = _decode_once(path, technical, limits, recording)
        analyzers = []
        samples: dict[int, list[tuple[int, np.ndarray]]] = {}
        for shot in shots.shots:
            analyzer = ShotAnalyzer(
                config, source_width=technical.width, source_height=technical.height, fps=shots.fps
            )
            recording.replay(analyzer, shot.start_frame, shot.end_frame)
            analyzers.append(analyzer)
            samples[shot.index] = [
                (index, recording.picture(index))
                for index in _spread(analyzer.sampled_frames, FACE_FRAMES_PER_SHOT)
            ]
    finally:
        recording.close()
    return Scan(shots=shots, analyzers=analyzers, face_samples=samples)


def _decode_once(
    path: Path, technical: asset_pb2.Technical, limits: MediaLimits, recording: ClipRecording
) -> ShotResult:
    """The one decode pass, behind rushes_media's guards (the bytes came from outside, even if
    ingest accepted them). The file's own timecode tag is used leniently: a malformed one means
    00:00:00:00."""
    with open_untrusted(path, limits) as opened:
        stream = opened.video
        if stream is None:
            raise MediaRejected("no_video", "tagging needs a picture: this asset is audio only")
        try:
            detection = StreamingDetection(
                opened.container, stream, name=path.name, fps=technical.fps or None
            )
        except ValueError as exc:
            raise MediaRejected("decode_error", str(exc)) from None
        enable_threads(stream)
        sar = stream.codec_context.sample_aspect_ratio
        size: tuple[int, int] | None = None
        turns = 0
        with decode_errors(opened, "tagging"):
            for index, frame in enumerate(opened.container.decode(stream)):
                if index % 64 == 0:
                    opened.check_deadline()
                if size is None:
                    turns = upright_turns(frame.rotation)
                    size = analysis_size(frame.width, frame.height, sar, turns)
                pts_s = detection.push(index, frame)
                # Full statistics (colour, exposure...) on sampled frames only; the others feed
                # camera motion alone, which needs luma: skip the colour conversion for them.
                sampled = recording.wants_stats(detection.may_start_shot)
                bgr = _analysis_frame(frame, size, turns) if sampled else None
                recording.push(index, pts_s, _analysis_gray(frame, size, turns), bgr)
        try:
            return detection.finish()
        except ValueError as exc:
            raise MediaRejected("decode_error", str(exc)) from None


def _spread(indices: Sequence[int], count: int) -> list[int]:
    """`count` indices spread evenly over `indices` (all of them when there are fewer)."""
    if len(indices) <= count:
        return list(indices)
    positions = np.linspace(0, len(indices) - 1, count).round().astype(int)
    return [indices[int(p)] for p in dict.fromkeys(positions.tolist())]


def _analysis_frame(frame: av.VideoFrame, size: tuple[int, int], turns: int) -> np.ndarray:
    width, height = size
    stored_w, stored_h = (height, width) if turns % 2 else (width, height)
    bgr = frame.reformat(
        width=stored_w, height=stored_h, format="bgr24", interpolation="BILINEAR"
    ).to_ndarray()
    return np.ascontiguousarray(np.rot90(bgr, turns)) if turns else bgr


def _analysis_gray(frame: av.VideoFrame, size: tuple[int, int], turns: int) -> np.ndarray:
    """Luma at analysis size. For 8-bit planar YUV the Y plane is read in place (no conversion):
    only camera motion uses these frames, and phase correlation ignores the luma range."""
    width, height = size
    stored_w, stored_h = (height, width) if turns % 2 else (width, height)
    if frame.format.name in _PLANAR_8BIT_YUV:
        luma = plane_array(frame.planes[0], np.uint8)
        gray = cv2.resize(luma, (stored_w, stored_h), interpolation=cv2.INTER_AREA)
    else:
        gray = frame.reformat(width=stored_w, height=stored_h, format="gray").to_ndarray()
    return np.ascontiguousarray(np.rot90(gray, turns)) if turns else gray


def finish(
    scan_result: Scan,
    preset: Preset,
    *,
    faces: Mapping[int, Mapping[int, Sequence[FaceBox]]] | None,
    audio: tuple[np.ndarray, int] | None = None,
    keyframe_key: str = "",
) -> list[TaggedShot]:
    """Decide every shot. `faces`: shot index -> frame index -> boxes (None: no detector ran).
    `audio`: mono samples and rate of the asset's audio (ingest's 16 kHz WAV), for the audio tempo
    and the share of speech of each shot; without it speech presence is unknown (and said so)."""
    spans = speech_spans(*audio) if audio is not None and audio[1] == VAD_SAMPLE_RATE else None
    tagged = []
    for shot, analyzer in zip(scan_result.shots.shots, scan_result.analyzers, strict=True):
        tempo = _shot_tempo(audio, shot.start_s, shot.end_s)
        analysis = analyzer.finish(
            faces.get(shot.index, {}) if faces is not None else None,
            audio_tempo=tempo,
            speech_fraction=speech_fraction(spans, shot.start_s, shot.end_s) if spans is not None else None,
        )
        tagged.append(_to_proto(shot, analysis, preset, keyframe_key))
    return tagged


def _shot_tempo(audio: tuple[np.ndarray, int] | None, start_s: float, end_s: float) -> Decision | None:
    if audio is None:
        return None
    samples, rate = audio
    piece = samples[int(start_s * rate) : int(end_s * rate)]
    return audio_tempo(piece, rate) if piece.size else None


def _to_proto(shot, analysis: ShotAnalysis, preset: Preset, keyframe_key: str) -> TaggedShot:  # type: ignore[no-untyped-def]
    proto = asset_pb2.Shot(
        index=shot.index,
        start_frame=shot.start_frame,
        end_frame=shot.end_frame,
        start_s=shot.start_s,
        end_s=shot.end_s,
        timecode_in=shot.timecode_in,
        timecode_out=shot.timecode_out,
        transition_in=shot.transition_in,
        boundary_confidence=shot.confidence,
        keyframe_frame=analysis.keyframe_index,
        keyframe=keyframe_key,
        transition_start_frame=shot.transition_start_frame,
        transition_end_frame=shot.transition_end_frame,
    )
    for name in preset.fields:
        decision = analysis.decisions.get(name)
        if decision is not None:
            proto.values[name].CopyFrom(ai_value(decision, preset.review_threshold(name)))
    for flag in analysis.flags:
        proto.flags.add(name=flag.name, measured=flag.measured, threshold=flag.threshold, reason=flag.reason)
    ok, jpeg = cv2.imencode(".jpg", analysis.keyframe_bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError(f"could not encode the keyframe of shot {shot.index}")
    return TaggedShot(shot=proto, keyframe_jpeg=jpeg.tobytes())


def ai_value(decision: Decision, review_below: float) -> asset_pb2.AiValue:
    value = asset_pb2.AiValue(
        confidence=float(decision.confidence),
        reasons=list(decision.reasons),
        model=decision.model,
        model_version=decision.model_version,
        needs_review=float(decision.confidence) < review_below,
    )
    _set_value(value, decision.value)
    return value


def _set_value(target: asset_pb2.AiValue, value: object) -> None:
    holder = struct_pb2.Struct()
    holder.update({"v": value})
    target.value.CopyFrom(holder.fields["v"])


def clip_values(technical: asset_pb2.Technical) -> dict[str, asset_pb2.AiValue]:
    """Camera, lens, frame rate and location as the file states them (confidence 1: metadata)."""
    camera = {k: v for k, v in {
        "make": technical.camera.make, "model": technical.camera.model, "lens": technical.camera.lens,
        "iso": technical.camera.iso, "shutter": technical.camera.shutter, "serial": technical.camera.serial,
    }.items() if v}  # fmt: skip
    found: dict[str, object] = {}
    if camera:
        found["camera"] = camera
    if technical.camera.location:
        found["location"] = technical.camera.location
    if technical.fps:
        found["frame_rate"] = {"fps": round(technical.fps, 3), "variable": technical.variable_frame_rate}
    values = {}
    for name, value in found.items():
        values[name] = asset_pb2.AiValue(
            confidence=1.0,
            reasons=["from_file_metadata"],
            model=METADATA_MODEL,
            model_version=METADATA_VERSION,
        )
        _set_value(values[name], value)
    return values
