"""The review queue of one asset, and a reviewer's accept / reject verdict on an item (pure).

An item is anything in the asset record a person should look at: an AI value marked needs_review
(below its preset's threshold), a transcript or subtitles sent to review, a QC verdict that failed,
a pick marked for review. Stages added later need no change here: any record in any section that
says `needs_review: true`, or a QC record whose verdict failed, is an item. Each item has a
stable id (its path in the record, "shots/3/values/shot_type") and a revision (a fingerprint of
what the reviewer saw); a verdict names both, so one on a value that changed meanwhile is refused.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from rushes_library.corrections import MAX_NOTE_CHARS, MAX_REVIEWER_CHARS, CorrectionRefused
from rushes_library.search_index import REJECTED_REASON
from rushes_library.state import AssetState

Verdict = Literal["accepted", "rejected"]
ACCEPTED_REASON = "human_accepted"
_QC_FAILED = {"fail", "failed", "rejected", "error"}
# Sections whose shape the queue knows; every other section is walked generically.
_KNOWN = {"shots", "values", "transcript", "subtitles", "tags_version", "tag_preset", "structural"}


@dataclass(frozen=True)
class ReviewItem:
    asset_id: str
    project: str
    item_id: str
    kind: str  # "ai_value" | "transcript" | "subtitles" | "qc" | "<section>"
    revision: str
    shot_index: int  # -1 when the item is not a shot's
    field: str
    value: Any
    confidence: float | None
    reasons: list[str]
    model: str
    model_version: str
    keyframe: str
    start_s: float | None
    end_s: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "project": self.project,
            "item_id": self.item_id,
            "kind": self.kind,
            "revision": self.revision,
            "shot_index": self.shot_index,
            "field": self.field,
            "value": self.value,
            "confidence": self.confidence,
            "reasons": self.reasons,
            "model": self.model,
            "model_version": self.model_version,
            "keyframe": self.keyframe,
            "start_s": self.start_s,
            "end_s": self.end_s,
        }


def revision_of(record: Any) -> str:
    """A short fingerprint of a record's JSON (order-independent)."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def review_items(state: AssetState) -> list[ReviewItem]:
    """Every open item of the asset, in record order."""
    return list(_items(state))


def _items(state: AssetState) -> Iterator[ReviewItem]:
    sections = state.sections
    for position, shot in enumerate(sections.get("shots") or []):
        index = int(shot.get("index", position) or position)
        for name, decision in sorted((shot.get("values") or {}).items()):
            if isinstance(decision, Mapping) and decision.get("needs_review"):
                yield _item(state, f"shots/{position}/values/{name}", "ai_value", decision, name, index, shot)
    for name, decision in sorted((sections.get("values") or {}).items()):
        if isinstance(decision, Mapping) and decision.get("needs_review"):
            yield _item(state, f"values/{name}", "ai_value", decision, name, -1, None)
    for name in ("transcript", "subtitles"):
        record = sections.get(name) or {}
        if isinstance(record, Mapping) and record.get("needs_review"):
            yield _item(state, name, name, record, name, -1, None)
    for name in sorted(set(sections) - _KNOWN):
        yield from _walk(state, name, sections[name], name)


def _walk(state: AssetState, kind: str, record: Any, path: str) -> Iterator[ReviewItem]:
    """The most specific records to review: a failed rendition's failed shots rather than the
    rendition, the rendition rather than the section's overall verdict."""
    if isinstance(record, Mapping):
        if isinstance(record.get("review"), Mapping):
            return  # a reviewer decided it (apply_verdict); a new stage output replaces the record
        inner = [
            item
            for key, value in sorted(record.items())
            for item in _walk(state, kind, value, f"{path}/{key}")
        ]
        if inner:
            yield from inner
            return
        verdict = str(record.get("verdict", "")).lower()
        failed_qc = kind == "qc" and (verdict in _QC_FAILED or record.get("passed") is False)
        if record.get("needs_review") or failed_qc:
            name = record.get("field") or record.get("check") or record.get("fix") or _last_name(path)
            yield _item(state, path, kind, record, str(name), -1, None)
    elif isinstance(record, list):
        for position, value in enumerate(record):
            yield from _walk(state, kind, value, f"{path}/{position}")


def _last_name(path: str) -> str:
    """The last key of a path that is not a list position ("picks/takes/2/score" -> "score")."""
    return next((part for part in reversed(path.split("/")) if not part.isdigit()), path)


def _item(
    state: AssetState,
    item_id: str,
    kind: str,
    record: Mapping[str, Any],
    field: str,
    shot_index: int,
    shot: Mapping[str, Any] | None,
) -> ReviewItem:
    confidence = record.get("confidence")
    return ReviewItem(
        asset_id=state.asset_id,
        project=state.project,
        item_id=item_id,
        kind=kind,
        revision=revision_of(record),
        shot_index=shot_index,
        field=field,
        value=record.get("value", record.get("text") if kind == "transcript" else record.get("verdict")),
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        reasons=[str(r) for r in record.get("reasons") or record.get("flags") or []],
        model=str(record.get("model") or ""),
        model_version=str(record.get("model_version") or ""),
        keyframe=str((shot or {}).get("keyframe") or ""),
        start_s=float(shot["start_s"]) if shot and "start_s" in shot else None,
        end_s=float(shot["end_s"]) if shot and "end_s" in shot else None,
    )


def apply_verdict(
    state: AssetState,
    *,
    item_id: str,
    verdict: Verdict,
    expected_revision: str,
    reviewer: str,
    note: str,
    now: datetime,
) -> tuple[AssetState, ReviewItem]:
    """Record accept/reject on the item: it leaves the queue (needs_review false, a reason tag).

    A rejected AI value keeps its value for the record but is tagged human_rejected, which the
    search index honours (it is no longer a label). Raises CorrectionRefused (invalid / not_found /
    stale) with a message naming what was wrong. Returns the new state and the item as it was.
    """
    if verdict not in ("accepted", "rejected"):
        raise CorrectionRefused("invalid", f"verdict {verdict!r} is not accepted or rejected")
    if not reviewer or len(reviewer) > MAX_REVIEWER_CHARS or not reviewer.isprintable():
        raise CorrectionRefused("invalid", "reviewer is required: printable, at most 128 characters")
    if len(note) > MAX_NOTE_CHARS:
        raise CorrectionRefused("invalid", f"note is longer than {MAX_NOTE_CHARS} characters")
    if not item_id or len(item_id) > 512:
        raise CorrectionRefused("invalid", "item_id is required (at most 512 characters)")
    current = {item.item_id: item for item in review_items(state)}
    item = current.get(item_id)
    if item is None:
        raise CorrectionRefused(
            "not_found", f"asset {state.asset_id} has no open review item {item_id!r} (decided already?)"
        )
    if expected_revision != item.revision:
        raise CorrectionRefused(
            "stale",
            f"item {item_id} changed since you looked (you saw revision {expected_revision or '(none)'}, "
            f"it is now {item.revision}); reload and review again",
        )
    sections = copy.deepcopy(dict(state.sections))
    target = _locate(sections, item_id)
    target["needs_review"] = False
    reason = ACCEPTED_REASON if verdict == "accepted" else REJECTED_REASON
    if isinstance(target.get("reasons"), list) or "reasons" not in target:
        target["reasons"] = [*target.get("reasons", []), reason, f"by:{reviewer}"]
    target["review"] = {"verdict": verdict, "reviewer": reviewer, "at": now.isoformat(), "note": note}
    return replace(state, sections=sections), item


def _locate(sections: dict[str, Any], item_id: str) -> dict[str, Any]:
    node: Any = sections
    for part in item_id.split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    if not isinstance(node, dict):
        raise CorrectionRefused("not_found", f"review item {item_id!r} is not a record")
    return node
