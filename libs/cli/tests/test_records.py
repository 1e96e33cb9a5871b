"""The asset record's JSON shape: contract names, stable keys, 64-bit integers as numbers."""

from __future__ import annotations

import json

from rushes.asset.v1 import asset_pb2
from rushes_cli.records import asset_record


def test_record_uses_contract_names_and_numbers() -> None:
    asset = asset_pb2.Asset(
        asset_id="ab" * 16,
        status="complete",
        source=asset_pb2.Source(filename="A001.mov", bytes=5_000_000_000, sha256="00" * 32),
        technical=asset_pb2.Technical(width=1920, height=1080, frame_count=1440, fps=23.976),
    )
    asset.shots.add(index=0, start_frame=0, end_frame=120, transition_in="start")
    asset.shots[0].values["shot_type"].confidence = 0.8
    asset.shots[0].values["shot_type"].value.string_value = "close_up"
    record = json.loads(json.dumps(asset_record(asset)))
    assert list(record)[:4] == ["asset_id", "status", "project", "source"]
    assert record["source"]["bytes"] == 5_000_000_000
    assert record["technical"]["frame_count"] == 1440
    assert record["technical"]["timecode"] == ""  # absent values still have their key
    assert record["shots"][0]["end_frame"] == 120
    assert record["shots"][0]["values"]["shot_type"] == {
        "value": "close_up",
        "confidence": 0.8,
        "reasons": [],
        "model": "",
        "model_version": "",
        "needs_review": False,
    }
