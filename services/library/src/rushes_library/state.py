"""The catalog's view of one asset, and the rules that move it forward.

Pure data and pure functions: no SQL, no NATS, no gRPC. The catalog loads an `AssetState`, lets the
projection fold one event into it, and writes back what changed; everything that decides *what* the
record should say lives here so it can be tested without servers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

StageStatusName = Literal["pending", "running", "complete", "failed", "skipped"]
AssetStatusName = Literal["processing", "complete", "failed", "rejected"]
FinishedStatusName = Literal["complete", "failed", "skipped"]

STAGE_STATUSES: tuple[StageStatusName, ...] = ("pending", "running", "complete", "failed", "skipped")
ASSET_STATUSES: tuple[AssetStatusName, ...] = ("processing", "complete", "failed", "rejected")
FINISHED_STAGE_STATUSES: frozenset[str] = frozenset({"complete", "failed", "skipped"})
# A skipped stage (nothing to do for this asset) counts as done when deciding "complete".
DONE_STAGE_STATUSES: frozenset[str] = frozenset({"complete", "skipped"})


@dataclass(frozen=True)
class StageState:
    """One stage's progress for one asset (a row of asset_stages)."""

    status: StageStatusName
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str = ""
    attempts: int = 0

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STAGE_STATUSES


@dataclass(frozen=True)
class AssetState:
    """Everything the catalog keeps about one asset, minus its audit trail and timestamps."""

    asset_id: str
    project: str = ""
    source: Mapping[str, Any] = field(default_factory=dict)
    technical: Mapping[str, Any] = field(default_factory=dict)
    objects: Mapping[str, str] = field(default_factory=dict)
    rejected: bool = False
    rejection_reason: str = ""
    stages: Mapping[str, StageState] = field(default_factory=dict)
    # Later stages' parts of the asset record, by Asset proto field name ("shots", "values", ...).
    sections: Mapping[str, Any] = field(default_factory=dict)

    def with_stage(self, stage: str, state: StageState) -> AssetState:
        return replace(self, stages={**self.stages, stage: state})

    def with_sections(self, **sections: Any) -> AssetState:
        return replace(self, sections={**self.sections, **sections})


def derive_status(state: AssetState, pipeline_stages: Iterable[str]) -> AssetStatusName:
    """rejected > failed (any stage) > complete (every configured stage done) > processing."""
    if state.rejected:
        return "rejected"
    if any(stage.status == "failed" for stage in state.stages.values()):
        return "failed"
    required = list(pipeline_stages)
    if required and all(
        name in state.stages and state.stages[name].status in DONE_STAGE_STATUSES for name in required
    ):
        return "complete"
    return "processing"


def stage_started(
    current: StageState | None, *, started_at: datetime | None, attempt: int = 0
) -> StageState | None:
    """The stage began an attempt; None when the event is stale and must not change anything.

    `attempt` is the producer's 1-based attempt number, 0 when it did not say. A start never
    overrides a finished stage of the same or an earlier attempt: events can arrive out of order
    (a redelivered stage_started after the stage's own completion event), and the record must not
    go back from "complete" to "running".
    """
    if current is None or current.status == "pending":
        attempts = attempt if attempt > 0 else (current.attempts if current else 0) + 1
        return StageState(status="running", started_at=started_at, attempts=attempts)
    if attempt > 0:
        if attempt <= current.attempts:
            return None
        return StageState(status="running", started_at=started_at, attempts=attempt)
    # The producer gave no attempt number: only time can tell a retry from a late duplicate.
    if current.finished and not _strictly_after(started_at, current.finished_at):
        return None
    if current.status == "running" and not _strictly_after(started_at, current.started_at):
        return None
    return StageState(status="running", started_at=started_at, attempts=current.attempts + 1)


def stage_finished(
    current: StageState | None,
    *,
    status: FinishedStatusName,
    started_at: datetime | None,
    finished_at: datetime | None,
    error: str = "",
) -> StageState | None:
    """The stage ended (complete, failed or skipped); None when an outcome already recorded is newer.

    A running stage always takes the outcome. Between two outcomes the later `finished_at` wins, so
    a retry that succeeds after a failure clears the failure, and a stale failure arriving after a
    success does not undo it. When either time is unknown the newest event wins.
    """
    if current is not None and current.finished and _strictly_after(current.finished_at, finished_at):
        return None
    attempts = max(current.attempts if current else 0, 1)
    kept_start = current.started_at if current else None
    return StageState(
        status=status,
        started_at=started_at or kept_start,
        finished_at=finished_at,
        error=error if status == "failed" else "",
        attempts=attempts,
    )


def _strictly_after(a: datetime | None, b: datetime | None) -> bool:
    """a > b when both are known; False when either is unknown (an unknown time proves nothing)."""
    return a is not None and b is not None and a > b
