"""A small catalog for search and review tests: assets with tagged shots and transcripts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from library_test_events import at, envelope, ingested, run
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2
from rushes_library.catalog import Catalog


@dataclass
class ShotSpec:
    start_s: float
    end_s: float
    values: dict[str, tuple[Any, float]]  # field -> (value, confidence)
    review: set[str] = field(default_factory=set)  # fields marked needs_review


def tagged(asset_id: str, shots: list[ShotSpec], *, project: str, version: int = 1) -> events_pb2.AssetTagged:
    event = events_pb2.AssetTagged(
        envelope=envelope(
            "rushes.v1.asset.tagged", asset_id=asset_id, project=project, time=at(20 + version)
        ),
        preset="documentary",
        tags_version=version,
        run=run("tagging", at(10), at(20 + version)),
    )
    for index, spec in enumerate(shots):
        shot = event.shots.add(
            index=index,
            start_s=spec.start_s,
            end_s=spec.end_s,
            start_frame=int(spec.start_s * 25),
            end_frame=int(spec.end_s * 25),
            keyframe=f"assets/{asset_id}/keyframes/{index:04d}.jpg",
        )
        for name, (value, confidence) in spec.values.items():
            decision = json_format.ParseDict(
                {
                    "value": value,
                    "confidence": confidence,
                    "reasons": [f"rule:{name}"],
                    "model": f"{name}-heuristic",
                    "model_version": "1.2.0",
                    "needs_review": name in spec.review,
                },
                asset_pb2.AiValue(),
            )
            shot.values[name].CopyFrom(decision)
    return event


def transcribed(
    asset_id: str, words: list[tuple[str, float]], *, project: str
) -> events_pb2.AssetTranscribed:
    event = events_pb2.AssetTranscribed(
        envelope=envelope("rushes.v1.asset.transcribed", asset_id=asset_id, project=project, time=at(30)),
        run=run("asr", at(10), at(30)),
    )
    event.transcript.language = "en"
    event.transcript.text = " ".join(word for word, _ in words)
    event.transcript.model = "whisper-tiny.en"
    for word, start in words:
        event.transcript.words.add(word=word, start_s=start, end_s=start + 0.3, probability=0.9)
    return event


async def add_asset(
    catalog: Catalog,
    asset_id: str,
    *,
    project: str,
    shots: list[ShotSpec],
    words: list[tuple[str, float]] | None = None,
    filename: str = "A001_C002.mov",
) -> None:
    event = ingested(asset_id=asset_id, project=project)
    event.source.filename = filename
    await catalog.record_event("rushes.v1.asset.ingested", event)
    if shots:
        await catalog.record_event("rushes.v1.asset.tagged", tagged(asset_id, shots, project=project))
    if words:
        await catalog.record_event(
            "rushes.v1.asset.transcribed", transcribed(asset_id, words, project=project)
        )
