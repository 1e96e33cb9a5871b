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
