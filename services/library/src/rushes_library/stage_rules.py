"""Rules for the stages after ingest: each stores its part of the asset record as sections.

A stage's event replaces its sections whole when it is at least as new as what is stored (a
retag makes a new version; the superseded one stays in the audit log's event data).
"""

from __future__ import annotations

from typing import Any

from rushes.events.v1 import events_pb2

from rushes_library.projection import EventRule, finish_stage, message_to_json, register_rule
from rushes_library.state import AssetState

TAGGED = "rushes.v1.asset.tagged"
TRANSCRIBED = "rushes.v1.asset.transcribed"


def _apply_tagged(event: events_pb2.AssetTagged, state: AssetState) -> AssetState:
    stored_version = int(state.sections.get("tags_version", 0) or 0)
    if event.tags_version >= stored_version:
        as_json: dict[str, Any] = message_to_json(event)
        state = state.with_sections(
            shots=as_json.get("shots", []),
            values=as_json.get("values", {}),
            tag_preset=event.preset,
            tags_version=event.tags_version,
        )
    return finish_stage(state, event.run.stage or "tagging", "complete", event.run)


def _summarize_tagged(event: events_pb2.AssetTagged) -> str:
    review = sum(1 for shot in event.shots for value in shot.values.values() if value.needs_review)
    flags = f", flags: {', '.join(event.flags)}" if event.flags else ""
    return (
        f"tagged with preset {event.preset or '?'} v{event.tags_version}: {len(event.shots)} shots, "
        f"{review} values for review{flags}"
    )


def _apply_transcribed(event: events_pb2.AssetTranscribed, state: AssetState) -> AssetState:
    as_json: dict[str, Any] = message_to_json(event)
    state = state.with_sections(
        transcript=as_json.get("transcript", {}), subtitles=as_json.get("subtitles", {})
    )
    return finish_stage(state, event.run.stage or "asr", "complete", event.run)


def _summarize_transcribed(event: events_pb2.AssetTranscribed) -> str:
    if event.skipped_reason:
        return f"no transcript: {event.skipped_reason}"
    review = " (to review)" if event.transcript.needs_review or event.subtitles.needs_review else ""
    flags = f", flags: {', '.join(event.transcript.flags)}" if event.transcript.flags else ""
    return (
        f"transcribed {len(event.transcript.words)} words ({event.transcript.language or '?'}), "
        f"{event.subtitles.cue_count} cues{flags}{review}"
    )


register_rule(TAGGED, EventRule(summarize=_summarize_tagged, apply=_apply_tagged))
register_rule(TRANSCRIBED, EventRule(summarize=_summarize_transcribed, apply=_apply_transcribed))


# --- picks (issue 6): an asset's scored takes; a project's cut is audit-only (it has no asset) ---
PICKED = "rushes.v1.asset.picked"
CUT_ASSEMBLED = "rushes.v1.project.cut_assembled"


def _apply_picked(event: events_pb2.AssetPicked, state: AssetState) -> AssetState:
    as_json: dict[str, Any] = message_to_json(event)
    picks = {
        key: as_json.get(key)
        for key in ("takes", "preset", "skipped_reason", "input_version", "notes", "model", "model_version")
    }
    state = state.with_sections(picks=picks)
    return finish_stage(state, event.run.stage or "picks", "complete", event.run)


def _summarize_picked(event: events_pb2.AssetPicked) -> str:
    if event.skipped_reason:
        return f"no picks: {event.skipped_reason}"
    usable = sum(
        1 for t in event.takes if t.score.value.struct_value.fields["verdict"].string_value == "usable"
    )
    review = sum(1 for t in event.takes if t.score.needs_review)
    redundant = sum(1 for t in event.takes if t.redundant)
    return f"scored {len(event.takes)} takes: {usable} usable, {redundant} redundant, {review} for review"


def _summarize_cut(event: events_pb2.CutAssembled) -> str:
    reasons = f" ({'; '.join(event.policy_reasons)})" if event.policy_reasons else ""
    return (
        f"cut {event.cut_id} of project {event.envelope.project!r}: {event.clip_count} clips in "
        f"{event.order or '?'} order, {event.status}{reasons}"
    )


register_rule(PICKED, EventRule(summarize=_summarize_picked, apply=_apply_picked))
# apply=None: a project event names no asset, so it goes to the audit log only (asset_id NULL)
# instead of the "a run means that stage completed" default, which needs an asset.
register_rule(CUT_ASSEMBLED, EventRule(summarize=_summarize_cut))


# --- enhance (issue 8): renditions accumulate (every fix is a new version, none replaces another) ---
ENHANCED = "rushes.v1.asset.enhanced"


def _apply_enhanced(event: events_pb2.AssetEnhanced, state: AssetState) -> AssetState:
    as_json: dict[str, Any] = message_to_json(event)
    renditions: list[dict[str, Any]] = list(state.sections.get("renditions") or [])
    known = {r.get("object_key") for r in renditions}
    renditions += [r for r in as_json.get("renditions", []) if r.get("object_key") not in known]
    state = state.with_sections(renditions=renditions, enhance_skipped_reason=event.skipped_reason)
    return finish_stage(state, event.run.stage or "enhance", "complete", event.run)


def _summarize_enhanced(event: events_pb2.AssetEnhanced) -> str:
    if event.skipped_reason:
        return f"no renditions: {event.skipped_reason}"
    return "renditions: " + ", ".join(
        f"{r.fix} v{r.version} ({r.model_name} {r.model_version}; {'; '.join(r.reasons)})"
        for r in event.renditions
    )


register_rule(ENHANCED, EventRule(summarize=_summarize_enhanced, apply=_apply_enhanced))


# --- asset.graded (grading service) -----------------------------------------------------------------

GRADED = "rushes.v1.asset.graded"


def _apply_graded(event: events_pb2.AssetGraded, state: AssetState) -> AssetState:
    """The "grading" section: every grading of the asset by look id, and the latest one."""
    as_json: dict[str, Any] = message_to_json(event)
    as_json.pop("envelope", None)
    current = dict(state.sections.get("grading", {}) or {})
    looks = {**dict(current.get("looks", {}) or {}), event.look_id: as_json}
    state = state.with_sections(grading={"latest_look_id": event.look_id, "looks": looks})
    stage = event.run.stage or "grading"
    if event.skipped_reason:
        return finish_stage(state, stage, "skipped", event.run)
    return finish_stage(state, stage, "complete", event.run)


def _summarize_graded(event: events_pb2.AssetGraded) -> str:
    if event.skipped_reason:
        return f"not graded: {event.skipped_reason}"
    review = sum(1 for grade in event.grades if grade.needs_review)
    return (
        f"graded {len(event.grades)} shots ({event.mode}, look {event.look_id}) toward {event.reference}, "
        f"{review} for review"
    )


register_rule(GRADED, EventRule(summarize=_summarize_graded, apply=_apply_graded))


# --- qc (issue 8): verdicts per shot and fix; a re-check of a rendition replaces its old verdict ---
QC = "rushes.v1.asset.qc"
_QC_RANK = {"": 0, "pass": 1, "review": 2, "fail": 3}


def _apply_qc(event: events_pb2.AssetQc, state: AssetState) -> AssetState:
    as_json: dict[str, Any] = message_to_json(event)
    current = dict(state.sections.get("qc") or {})
    by_key = {r.get("object_key"): r for r in current.get("renditions") or []}
    by_key.update({r.get("object_key"): r for r in as_json.get("renditions", [])})
    renditions = list(by_key.values())
    verdict = max((r.get("verdict", "") for r in renditions), key=lambda v: _QC_RANK.get(v, 0), default="")
    qc = {
        "verdict": verdict,
        "needs_review": any(r.get("needs_review") for r in renditions),
        "renditions": renditions,
        "skipped_reason": event.skipped_reason if not renditions else "",
    }
    return finish_stage(state.with_sections(qc=qc), event.run.stage or "qc", "complete", event.run)


def _summarize_qc(event: events_pb2.AssetQc) -> str:
    if event.skipped_reason:
        return f"no QC: {event.skipped_reason}"
    parts = []
    for r in event.renditions:
        flagged = sum(1 for s in r.shots if s.verdict != "pass")
        detail = r.error or f"{flagged}/{len(r.shots)} shots flagged"
        parts.append(f"{r.fix} v{r.version}: {r.verdict} ({detail})")
    return f"qc {event.verdict}{' (to review)' if event.needs_review else ''}: " + "; ".join(parts)


register_rule(QC, EventRule(summarize=_summarize_qc, apply=_apply_qc))
