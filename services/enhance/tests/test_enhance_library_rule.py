"""The library's projection of rushes.v1.asset.enhanced: renditions accumulate, the stage completes."""

from __future__ import annotations

from rushes.events.v1 import events_pb2
from rushes_events import new_envelope, stage_run
from rushes_library import stage_rules  # noqa: F401  (registers the rules)
from rushes_library.projection import rule_for
from rushes_library.state import AssetState

ASSET = "ab" * 16


def enhanced(version: int) -> events_pb2.AssetEnhanced:
    event = events_pb2.AssetEnhanced(
        envelope=new_envelope(
            "rushes.v1.asset.enhanced", asset_id=ASSET, producer="enhance", producer_version="0"
        )
    )
    event.run.CopyFrom(stage_run("enhance", 1.0, 2.0))
    event.renditions.append(
        events_pb2.Rendition(fix="upscale", object_key=f"assets/{ASSET}/renditions/upscale/v{version}.mp4",
                             version=version, model_name="lanczos4+unsharp", reasons=["classical_fallback: x"])
    )  # fmt: skip
    return event


def test_renditions_accumulate_and_the_stage_completes() -> None:
    rule = rule_for("rushes.v1.asset.enhanced", enhanced(1))
    assert rule.apply is not None
    state = AssetState(asset_id=ASSET)
    for version in (1, 2, 2):  # a redelivered event adds nothing
        state = rule.apply(enhanced(version), state)
    assert [r["version"] for r in state.sections["renditions"]] == [1, 2]
    assert state.stages["enhance"].status == "complete"
    assert "upscale v1 (lanczos4+unsharp" in rule.summarize(enhanced(1))
