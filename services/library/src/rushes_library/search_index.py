"""What the search index holds for one asset: a document per shot (pure: AssetState in, rows out).

A shot's document is its tags (the taxonomy's names for its values, with synonyms, so "handheld"
finds shaky shots) and the transcript words spoken between its start and end. An asset without
shots yet gets one asset-level row (shot_index -1) so it is still findable by its metadata and
transcript. Values a reviewer rejected are left out: they are known to be wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rushes_library.state import AssetState
from rushes_library.taxonomy import Taxonomy, load_taxonomy

ASSET_LEVEL = -1
REJECTED_REASON = "human_rejected"
_SCENE = re.compile(r"(?i)(?<![a-z0-9])(?:scene|sc|s)[ _-]?(\d{1,4}[a-z]?)(?![0-9])")
_TAKE = re.compile(r"(?i)(?<![a-z0-9])(?:take|tk|t)[ _-]?(\d{1,3})(?![0-9])")
# Dict-valued decisions carry their label under one of these keys (exposure, sharpness, pace...).
_LABEL_KEYS = ("verdict", "tempo", "label")
_LIST_KEYS = ("moods", "detected")


@dataclass(frozen=True)
class SearchRow:
    asset_id: str
    shot_index: int
    project: str
    status: str
    start_s: float
    end_s: float
    recorded_at: datetime | None
    filename: str
    scene: str
    take: str
    camera: str
    lens: str
    location: str
    video_codec: str
    width: int
    height: int
    fps: float
    kelvin: float | None
    keyframe: str
    poster: str
    labels: list[str] = field(default_factory=list)
    confidences: dict[str, float] = field(default_factory=dict)
    needs_review: bool = False
    label_text: str = ""
    transcript: str = ""

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)

    @property
    def min_confidence(self) -> float | None:
        return min(self.confidences.values()) if self.confidences else None

    @property
    def document(self) -> str:
        """What the embedder reads: the tags in words, then what is said."""
        return f"{self.label_text}. {self.transcript}".strip(" .") if self.transcript else self.label_text


def scene_and_take(filename: str) -> tuple[str, str]:
    """Scene and take from common camera/slate naming ("S12_T03", "sc4a-tk2"); empty when absent."""
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    scene = _SCENE.search(stem)
    take = _TAKE.search(stem)
    return (
        scene.group(1).lstrip("0").lower() or "0" if scene else "",
        str(int(take.group(1))) if take else "",
    )


def labels_of(field_name: str, value: Any, taxonomy: Taxonomy) -> list[str]:
    """The raw labels of one decision's value: "close_up", ["calm", "warm"], "over"..."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        for key in _LABEL_KEYS:
            if isinstance(value.get(key), str):
                return [value[key]]
        for key in _LIST_KEYS:
            if isinstance(value.get(key), list):
                return [str(v) for v in value[key] if isinstance(v, str)]
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def build_rows(
    state: AssetState,
    *,
    status: str,
    created_at: datetime | None,
    taxonomy: Taxonomy | None = None,
    descriptive: Mapping[str, Any] | None = None,
) -> list[SearchRow]:
    """Every index row of the asset (shots, or one asset-level row).

    `descriptive` is the tier editors write (title, description, tags): its tags become
    `tag:<node>` labels (with ancestors) and its words join the ranked text of every row."""
    taxonomy = taxonomy or load_taxonomy()
    edited = _edited_labels_and_words(descriptive or {}, taxonomy)
    technical = state.technical or {}
    camera_info = technical.get("camera") or {}
    filename = str((state.source or {}).get("filename", ""))
    scene, take = scene_and_take(filename)
    structural = state.sections.get("structural") or {}
    scene = str(structural.get("scene") or scene)
    take = str(structural.get("take") or take)
    creation = float(technical.get("creation_time_unix") or 0)
    recorded_at = datetime.fromtimestamp(creation, UTC) if creation > 0 else created_at
    words = (state.sections.get("transcript") or {}).get("words") or []
    common: dict[str, Any] = {
        "asset_id": state.asset_id,
        "project": state.project,
        "status": status,
        "recorded_at": recorded_at,
        "filename": filename,
        "scene": scene,
        "take": take,
        "camera": " ".join(str(camera_info.get(k) or "") for k in ("make", "model")).strip(),
        "lens": str(camera_info.get("lens") or ""),
        "location": str(camera_info.get("location") or ""),
        "video_codec": str(technical.get("video_codec") or ""),
        "width": int(technical.get("width") or 0),
        "height": int(technical.get("height") or 0),
        "fps": float(technical.get("fps") or 0.0),
        "poster": str((state.objects or {}).get("poster", "")),
    }
    clip_values = state.sections.get("values") or {}
    shots = state.sections.get("shots") or []
    if not shots:
        duration = float(technical.get("duration_s") or 0.0)
        transcript = str((state.sections.get("transcript") or {}).get("text") or "")
        return [_row(common, ASSET_LEVEL, 0.0, duration, "", clip_values, transcript, taxonomy, edited)]
    rows = []
    for position, shot in enumerate(shots):
        start_s = float(shot.get("start_s") or 0.0)
        end_s = float(shot.get("end_s") or 0.0)
        said = " ".join(
            str(w.get("word", "")).strip() for w in words if start_s <= float(w.get("start_s") or 0.0) < end_s
        )
        values = {**clip_values, **(shot.get("values") or {})}
        index = int(shot.get("index", position) or position)
        rows.append(
            _row(
                common, index, start_s, end_s, str(shot.get("keyframe") or ""), values, said, taxonomy, edited
            )
        )
    return rows


def _edited_labels_and_words(
    descriptive: Mapping[str, Any], taxonomy: Taxonomy
) -> tuple[set[str], list[str]]:
    labels: set[str] = set()
    words: list[str] = []
    for raw in descriptive.get("tags") or []:
        node = taxonomy.resolve(str(raw))
        if node is None:
            continue  # validated on write; a node removed from the taxonomy later is skipped
        labels.add(f"tag:{node}")
        labels.update(f"tag:{ancestor}" for ancestor in taxonomy.ancestors(node))
        words.append(node.replace("_", " "))
    words.extend(str(descriptive.get(k) or "") for k in ("title", "description") if descriptive.get(k))
    return labels, words


def _row(
    common: Mapping[str, Any],
    index: int,
    start_s: float,
    end_s: float,
    keyframe: str,
    values: Mapping[str, Any],
    transcript: str,
    taxonomy: Taxonomy,
    edited: tuple[set[str], list[str]] = (set(), []),
) -> SearchRow:
    labels: set[str] = set(edited[0])
    confidences: dict[str, float] = {}
    words: list[str] = []
    needs_review = False
    kelvin: float | None = None
    for field_name, decision in sorted(values.items()):
        if not isinstance(decision, Mapping):
            continue
        if REJECTED_REASON in (decision.get("reasons") or []):
            continue
        needs_review = needs_review or bool(decision.get("needs_review"))
        if isinstance(decision.get("confidence"), int | float):
            confidences[field_name] = float(decision["confidence"])
        value = decision.get("value")
        if field_name == "white_balance" and isinstance(value, Mapping) and value.get("kelvin") is not None:
            kelvin = float(value["kelvin"])
        for raw in labels_of(field_name, value, taxonomy):
            labels.add(f"{field_name}:{raw}")
            node = taxonomy.field_value_node(field_name, raw)
            if node is None:
                words.append(raw.replace("_", " "))
                continue
            labels.add(f"tag:{node}")
            labels.update(f"tag:{ancestor}" for ancestor in taxonomy.ancestors(node))
            words.append(node.replace("_", " "))
            words.extend(s.replace("_", " ") for s in taxonomy.nodes[node].synonyms)
    return SearchRow(
        **common,
        shot_index=index,
        start_s=start_s,
        end_s=end_s,
        keyframe=keyframe,
        kelvin=kelvin,
        labels=sorted(labels),
        confidences=confidences,
        needs_review=needs_review,
        label_text=" ".join(dict.fromkeys([*words, *edited[1]])),
        transcript=transcript,
    )
