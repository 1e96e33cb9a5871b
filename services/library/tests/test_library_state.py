"""Stage transitions and asset status: pure rules, no servers."""

from __future__ import annotations

from library_test_events import at
from rushes_library.state import AssetState, StageState, derive_status, stage_finished, stage_started

PIPELINE = ["ingest", "tagging"]


def _asset(**stages: StageState) -> AssetState:
    return AssetState(asset_id="x" * 16, stages=stages)


def test_status_processing_until_every_pipeline_stage_is_done() -> None:
    assert derive_status(_asset(), PIPELINE) == "processing"
    assert derive_status(_asset(ingest=StageState("complete")), PIPELINE) == "processing"
    both = _asset(ingest=StageState("complete"), tagging=StageState("complete"))
    assert derive_status(both, PIPELINE) == "complete"


def test_skipped_stage_counts_as_done_and_extra_stages_do_not_block() -> None:
    state = _asset(
        ingest=StageState("complete"), tagging=StageState("skipped"), enhance=StageState("running")
    )
    assert derive_status(state, PIPELINE) == "complete"


def test_any_failed_stage_fails_the_asset_even_outside_the_pipeline() -> None:
    state = _asset(ingest=StageState("complete"), tagging=StageState("complete"), qc=StageState("failed"))
    assert derive_status(state, PIPELINE) == "failed"


def test_rejected_wins_over_everything() -> None:
    state = AssetState(asset_id="x" * 16, rejected=True, stages={"ingest": StageState("failed")})
    assert derive_status(state, PIPELINE) == "rejected"


def test_empty_pipeline_never_completes() -> None:
    assert derive_status(_asset(ingest=StageState("complete")), []) == "processing"


def test_first_start_runs_attempt_one() -> None:
    new = stage_started(None, started_at=at(1))
    assert new == StageState("running", started_at=at(1), attempts=1)


def test_start_with_attempt_number_uses_it() -> None:
    new = stage_started(None, started_at=at(1), attempt=3)
    assert new is not None and new.attempts == 3


def test_late_start_of_the_same_attempt_does_not_regress_a_finished_stage() -> None:
    done = StageState("complete", started_at=at(1), finished_at=at(5), attempts=1)
    assert stage_started(done, started_at=at(1), attempt=1) is None


def test_late_start_without_attempt_number_and_older_than_the_finish_is_ignored() -> None:
    done = StageState("failed", started_at=at(1), finished_at=at(5), error="boom", attempts=1)
    assert stage_started(done, started_at=at(4)) is None
    assert stage_started(done, started_at=None) is None


def test_a_new_attempt_after_a_failure_runs_again() -> None:
    failed = StageState("failed", started_at=at(1), finished_at=at(5), error="boom", attempts=1)
    by_number = stage_started(failed, started_at=at(6), attempt=2)
    by_time = stage_started(failed, started_at=at(6))
    assert by_number == StageState("running", started_at=at(6), attempts=2)
    assert by_time == StageState("running", started_at=at(6), attempts=2)


def test_older_attempt_start_while_a_newer_attempt_runs_is_ignored() -> None:
    running = StageState("running", started_at=at(10), attempts=3)
    assert stage_started(running, started_at=at(2), attempt=2) is None


def test_finish_takes_over_a_running_stage_and_keeps_its_start() -> None:
    running = StageState("running", started_at=at(1), attempts=2)
    done = stage_finished(running, status="complete", started_at=None, finished_at=at(9))
    assert done == StageState("complete", started_at=at(1), finished_at=at(9), attempts=2)


def test_finish_without_a_start_counts_one_attempt_and_clears_error_on_success() -> None:
    done = stage_finished(None, status="complete", started_at=at(1), finished_at=at(2), error="ignored")
    assert done == StageState("complete", started_at=at(1), finished_at=at(2), attempts=1)


def test_stale_failure_does_not_undo_a_later_success() -> None:
    done = StageState("complete", started_at=at(5), finished_at=at(9), attempts=2)
    assert stage_finished(done, status="failed", started_at=at(1), finished_at=at(3), error="old") is None


def test_later_success_clears_an_earlier_failure() -> None:
    failed = StageState("failed", started_at=at(1), finished_at=at(3), error="boom", attempts=1)
    done = stage_finished(failed, status="complete", started_at=at(4), finished_at=at(8))
    assert done == StageState("complete", started_at=at(4), finished_at=at(8), attempts=1)
