"""Hand-built inputs with known truth (what tests and benchmarks score): the events tagging, asr
and ingest would publish for takes that are sharp or soft, clean or flubbed."""

from __future__ import annotations

import cv2
import numpy as np
from google.protobuf import struct_pb2
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2
from rushes_events import new_envelope


def ai_value(value: object, confidence: float = 0.85, reasons: list[str] | None = None) -> asset_pb2.AiValue:
    decision = asset_pb2.AiValue(
        confidence=confidence, reasons=reasons or [], model="test", model_version="0"
    )
    holder = struct_pb2.Struct()
    holder.update({"v": value})
    decision.value.CopyFrom(holder.fields["v"])
    return decision


def shot_values(
    *,
    soft: bool = False,
    shaky: bool = False,
    exposure: str = "ok",
    clipped_pct: float = 0.0,
    face_pct: int = 90,
) -> dict[str, asset_pb2.AiValue]:
    return {
        "sharpness": ai_value({"verdict": "soft" if soft else "sharp", "score": 0.3 if soft else 0.85}),
        "exposure": ai_value({"verdict": exposure, "clipped_highlights_pct": clipped_pct}),
        "shakiness": ai_value({"verdict": "shaky" if shaky else "steady", "jitter_pct": 0.1}),
        "noise": ai_value({"verdict": "clean", "sigma": 1.0}),
        "shot_type": ai_value("close_up", 0.8, [f"faces_in={face_pct}%_of_8_frames"]),
    }


def words(
    text: str, start_s: float, *, gap_s: float = 0.35, probability: float = 0.92
) -> list[asset_pb2.Word]:
    found = []
    t = start_s
    for token in text.split():
        found.append(asset_pb2.Word(word=token, start_s=t, end_s=t + gap_s * 0.8, probability=probability))
        t += gap_s
    return found


def ingested(
    asset_id: str,
    *,
    filename: str,
    duration_s: float,
    project: str = "",
    fps: float = 25.0,
    timecode: str = "01:00:00:00",
    created: float = 0.0,
    audio_key: str = "",
) -> events_pb2.AssetIngested:
    event = events_pb2.AssetIngested(
        envelope=new_envelope(
            "rushes.v1.asset.ingested",
            asset_id=asset_id,
            producer="test",
            producer_version="0",
            project=project,
        ),
    )
    event.source.filename = filename
    event.technical.CopyFrom(
        asset_pb2.Technical(
            duration_s=duration_s,
            fps=fps,
            frame_count=round(duration_s * fps),
            has_video=True,
            width=1920,
            height=1080,
            timecode=timecode,
            creation_time_unix=created,
        )
    )
    event.objects["original"] = f"assets/{asset_id}/original.mov"
    if audio_key:
        event.objects["audio"] = audio_key
    return event


def tagged(
    asset_id: str,
    shots: list[tuple[float, float, dict[str, asset_pb2.AiValue]]],
    *,
    project: str = "",
    keyframes: list[str] | None = None,
    preset: str = "drama",
    fps: float = 25.0,
) -> events_pb2.AssetTagged:
    event = events_pb2.AssetTagged(
        envelope=new_envelope(
            "rushes.v1.asset.tagged",
            asset_id=asset_id,
            producer="test",
            producer_version="0",
            project=project,
        ),
        preset=preset,
        tags_version=1,
    )
    for index, (start, end, values) in enumerate(shots):
        shot = event.shots.add(
            index=index,
            start_s=start,
            end_s=end,
            start_frame=round(start * fps),
            end_frame=round(end * fps),
            transition_in="start" if index == 0 else "cut",
        )
        if keyframes:
            shot.keyframe = keyframes[index]
        for name, value in values.items():
            shot.values[name].CopyFrom(value)
    event.run.stage = "tagging"
    return event


def transcribed(
    asset_id: str, spoken: list[asset_pb2.Word], *, project: str = ""
) -> events_pb2.AssetTranscribed:
    event = events_pb2.AssetTranscribed(
        envelope=new_envelope(
            "rushes.v1.asset.transcribed",
            asset_id=asset_id,
            producer="test",
            producer_version="0",
            project=project,
        ),
    )
    if spoken:
        event.transcript.words.extend(spoken)
        event.transcript.text = " ".join(w.word for w in spoken)
        event.transcript.language = "en"
    else:
        event.skipped_reason = "no_audio"
    event.run.stage = "asr"
    return event


def keyframe_jpeg(seed: int, *, blur: int = 0, size: tuple[int, int] = (320, 180)) -> bytes:
    """A reproducible 'setup': coloured blocks from `seed`; the same seed is the same framing."""
    rng = np.random.default_rng(seed)
    width, height = size
    image = np.zeros((height, width, 3), np.uint8)
    for _ in range(12):
        x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 30))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.rectangle(
            image, (x, y), (x + int(rng.integers(30, 120)), y + int(rng.integers(20, 90))), colour, -1
        )
    shown = cv2.GaussianBlur(image, (0, 0), blur) if blur else image
    ok, encoded = cv2.imencode(".jpg", shown)
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return encoded.tobytes()
