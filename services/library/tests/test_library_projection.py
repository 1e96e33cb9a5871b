"""Events to catalog changes: pure projection tests, no servers."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from google.protobuf.message import Message
from library_test_events import (
    ASSET_ID,
    T0,
    at,
    dead_letter,
    envelope,
    ingested,
    rejected,
    run,
    stage_failed,
    stage_started,
)
from rushes.events.v1 import events_pb2
from rushes_library.projection import EventRule, InvalidEvent, project, register_rule, rule_for
from rushes_library.state import AssetState, StageState, derive_status

PIPELINE = ["ingest"]


def _fold(events: Iterable[Message], state: AssetState | None = None) -> AssetState:
    state = state or AssetState(asset_id=ASSET_ID)
    for event in events:
        subject = event.envelope.type  # type: ignore[attr-defined]
        projection = project(subject, event, received_at=T0)
        if projection.apply is not None:
            state = projection.apply(state)
    return state


def test_ingested_fills_the_record_and_completes_ingest() -> None:
    state = _fold([ingested(project="feature")])
    assert state.project == "feature"
    assert state.source == {"filename": "A001_C002.mov", "bytes": "123456", "sha256": "ab" * 32}
    assert state.technical["width"] == 1920
    assert state.technical["sample_aspect_ratio"] == "1:1"
    assert state.technical["audio"] == [
        {
            "codec": "aac",
            "channels": 2,
            "sample_rate": 48000,
            "index": 0,
            "duration_s": 0.0,
            "channel_layout": "",
        }
    ]
    # every field is present, defaults included: the stored JSON is self-describing
    assert state.technical["rotation"] == 0 and state.technical["variable_frame_rate"] is False
    assert state.objects == {
        "original": f"assets/{ASSET_ID}/original.mov",
        "proxy": f"assets/{ASSET_ID}/proxy.mp4",
    }
    assert state.stages == {"ingest": StageState("complete", started_at=at(0), finished_at=at(5), attempts=1)}
    assert derive_status(state, PIPELINE) == "complete"


def test_ingested_audit_record_names_the_event_and_drops_the_envelope() -> None:
    event = ingested()
    audit = project("rushes.v1.asset.ingested", event, received_at=T0).audit
    assert audit.event_id == event.envelope.id
    assert audit.asset_id == ASSET_ID
    assert audit.event_type == "rushes.v1.asset.ingested"
    assert (audit.producer, audit.producer_version) == ("ingest", "0.1.0")
    assert audit.trace_id == event.envelope.trace_id
    assert audit.time == at(5)
    assert audit.summary == "ingested A001_C002.mov (1920x1080, 12.50 s, 2 objects)"
    assert "envelope" not in audit.data and audit.data["source"]["filename"] == "A001_C002.mov"


def test_rejected_marks_the_asset_rejected_with_reason_and_no_objects() -> None:
    state = _fold([stage_started("ingest", started_s=0), rejected(time_s=1)])
    assert state.rejected
    assert state.rejection_reason == "not_media: no audio or video stream found"
    assert state.objects == {}
    assert state.source["filename"] == "notes.txt"
    assert state.stages["ingest"].status == "failed"
    assert derive_status(state, PIPELINE) == "rejected"


def test_rejection_after_a_successful_ingest_does_not_erase_the_asset() -> None:
    before = _fold([ingested(finished_s=5)])
    after = _fold([rejected(time_s=9)], before)
    assert after == before


def test_ingest_after_rejection_clears_it() -> None:
    state = _fold([rejected(time_s=1), ingested(finished_s=10)])
    assert not state.rejected and state.rejection_reason == ""
    assert derive_status(state, PIPELINE) == "complete"


def test_stage_started_runs_the_stage_and_counts_attempts() -> None:
    state = _fold([stage_started("tagging", started_s=1), stage_started("tagging", started_s=2)])
    assert state.stages["tagging"] == StageState("running", started_at=at(2), attempts=2)
    assert derive_status(state, ["ingest", "tagging"]) == "processing"


def test_late_stage_started_does_not_regress_complete_ingest() -> None:
    state = _fold([ingested(finished_s=5), stage_started("ingest", started_s=0, attempt=1)])
    assert state.stages["ingest"].status == "complete"


def test_stage_failed_fails_the_stage_and_the_asset() -> None:
    state = _fold([ingested(finished_s=5), stage_failed("tagging", finished_s=8, error="model timed out")])
    assert state.stages["tagging"].status == "failed"
    assert state.stages["tagging"].error == "model timed out"
    assert derive_status(state, ["ingest", "asr"]) == "failed"


def test_dead_letter_fails_that_stage_with_the_reason_and_audits_without_payload() -> None:
    event = dead_letter("tagging", time_s=20)
    projection = project("rushes.v1.dlq.tagging", event, received_at=T0)
    assert projection.audit.data["original_data"] == "<100 bytes omitted>"
    assert projection.apply is not None
    state = projection.apply(AssetState(asset_id=ASSET_ID))
    assert state.stages["tagging"].status == "failed"
    assert (
        state.stages["tagging"].error
        == "dead-lettered after 5 deliveries: handler raised ValueError: bad frame"
    )


def test_own_dead_letters_are_audited_but_never_applied() -> None:
    projection = project("rushes.v1.dlq.library", dead_letter("library", time_s=3), received_at=T0)
    assert projection.apply is None
    assert projection.audit.event_type == "rushes.v1.dlq.library"


def test_dead_letter_without_an_asset_is_audit_only() -> None:
    projection = project(
        "rushes.v1.dlq.tagging", dead_letter("tagging", time_s=3, asset_id=""), received_at=T0
    )
    assert projection.apply is None and projection.audit.asset_id is None


def test_any_event_with_a_run_completes_that_stage() -> None:
    # A later stage's event the library has no rule for: AssetIngested's shape under another subject
    # stands in for e.g. rushes.v1.asset.archived carrying run.stage = "archive".
    event = events_pb2.StageFailed(
        envelope=envelope("rushes.v1.asset.archived"), run=run("archive", at(6), at(9))
    )
    assert rule_for("rushes.v1.asset.archived", event).apply is not None
    state = _fold([ingested(finished_s=5)])
    state = project("rushes.v1.asset.archived", event, received_at=T0).apply(state)  # type: ignore[misc]
    assert state.stages["archive"] == StageState("complete", started_at=at(6), finished_at=at(9), attempts=1)
    assert derive_status(state, ["ingest", "archive"]) == "complete"


def test_event_without_run_or_rule_is_audit_only() -> None:
    event = events_pb2.StageFailed(envelope=envelope("rushes.v1.asset.reviewed"))
    event.ClearField("run")
    projection = project("rushes.v1.asset.reviewed", event, received_at=T0)
    assert projection.apply is None
    assert projection.audit.summary == "asset.reviewed"


def test_registered_rule_overrides_the_generic_one() -> None:
    def _tag(event: Message, state: AssetState) -> AssetState:
        return state.with_stage("tagging", StageState("skipped"))

    register_rule("rushes.v1.test.custom", EventRule(summarize=lambda _e: "custom", apply=_tag))
    event = events_pb2.StageFailed(envelope=envelope("rushes.v1.test.custom"), run=run("x", at(1), at(2)))
    projection = project("rushes.v1.test.custom", event, received_at=T0)
    assert projection.audit.summary == "custom"
    assert projection.apply is not None
    assert projection.apply(AssetState(asset_id=ASSET_ID)).stages == {"tagging": StageState("skipped")}


def test_register_rule_refuses_a_subject_outside_the_stream() -> None:
    with pytest.raises(ValueError, match=r"must start with 'rushes\.v1\.'"):
        register_rule("other.asset.tagged", EventRule(summarize=str))


def test_envelope_time_falls_back_to_received_time() -> None:
    event = ingested()
    event.envelope.ClearField("time")
    assert project("rushes.v1.asset.ingested", event, received_at=at(99)).audit.time == at(99)


def test_project_from_the_envelope_fills_an_asset_without_one() -> None:
    state = _fold([stage_started("ingest", started_s=0)])
    assert state.project == "feature"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.envelope.ClearField("id"), "envelope.id is empty"),
        (lambda e: setattr(e.envelope, "asset_id", ""), "envelope.asset_id is empty"),
        (lambda e: setattr(e, "stage", ""), "the stage name is empty"),
    ],
)
def test_contract_violations_are_invalid_events(mutate, message: str) -> None:
    event = stage_started("tagging", started_s=1)
    mutate(event)
    with pytest.raises(InvalidEvent, match=message):
        projection = project("rushes.v1.asset.stage_started", event, received_at=T0)
        assert projection.apply is not None
        projection.apply(AssetState(asset_id=ASSET_ID))


def test_event_without_an_envelope_is_invalid() -> None:
    with pytest.raises(InvalidEvent, match="has no envelope"):
        project("rushes.v1.asset.odd", events_pb2.StageRun(stage="x"), received_at=T0)


def test_run_without_stage_name_is_invalid() -> None:
    event = events_pb2.StageFailed(envelope=envelope("rushes.v1.asset.archived"), run=run("", at(1), at(2)))
    projection = project("rushes.v1.asset.archived", event, received_at=T0)
    assert projection.apply is not None
    with pytest.raises(InvalidEvent, match="stage name is empty"):
        projection.apply(AssetState(asset_id=ASSET_ID))
