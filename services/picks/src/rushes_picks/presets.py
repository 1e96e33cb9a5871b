"""Picks presets: one YAML file, validated at load (an unknown key or out-of-range value is an error)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from rushes_config import PresetBook as ConfigPresetBook
from rushes_config import PresetError, load_preset_book

__all__ = ["COMPONENTS", "Preset", "PresetBook", "PresetError", "for_tagging_preset", "load_presets"]

PRESETS_FILE = Path(__file__).with_name("presets.yaml")
# Every component a take can be scored on (see scoring.py).
COMPONENTS = (
    "focus",
    "exposure",
    "stability",
    "noise",
    "frames",
    "audio",
    "delivery",
    "clarity",
    "faces",
    "duration_fit",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DurationFit(_Strict):
    """A take inside [min_s, max_s] fits; outside, its duration_fit decays."""

    min_s: float = Field(1.0, ge=0.0)
    max_s: float = Field(60.0, gt=0.0)


class Redundancy(_Strict):
    """Two takes are near-duplicates when their keyframe hashes are within `max_hash_distance` bits
    (of 64) and their transcripts are at least `min_text_similarity` alike; takes without speech
    must look closer still (`max_hash_distance_silent`), having nothing else to compare."""

    max_hash_distance: int = Field(14, ge=0, le=64)
    min_text_similarity: float = Field(0.6, ge=0.0, le=1.0)
    max_hash_distance_silent: int = Field(6, ge=0, le=64)


class ScriptMatching(_Strict):
    """A take delivers a script line when it covers at least this share of the line's words in order."""

    min_line_coverage: float = Field(0.6, gt=0.0, le=1.0)


class CutOptions(_Strict):
    handle_s: float = Field(1.0, ge=0.0, le=30.0)


class DraftPolicy(_Strict):
    """When a cut may go out as a machine draft; any rule broken escalates it to review."""

    min_pick_confidence: float = Field(0.55, ge=0.0, le=1.0)
    min_clip_s: float = Field(0.5, ge=0.0)
    max_clip_s: float = Field(60.0, gt=0.0)
    # |technical - performance| above this on a pick: the scores disagree, a human should look.
    max_score_disagreement: float = Field(0.6, ge=0.0, le=1.0)
    # Share of script lines that must have a take (only with a script).
    min_script_coverage: float = Field(0.75, ge=0.0, le=1.0)
    # Picks already flagged for review that a draft may still contain.
    max_picks_for_review: int = Field(0, ge=0)


class Preset(_Strict):
    name: str = ""
    description: str = ""
    review_below: float = Field(0.55, ge=0.0, le=1.0)
    usable_below: float = Field(0.35, ge=0.0, le=1.0)
    weights: dict[str, float] = Field(default_factory=lambda: dict.fromkeys(COMPONENTS, 1.0))
    duration: DurationFit = Field(default_factory=DurationFit)
    redundancy: Redundancy = Field(default_factory=Redundancy)
    script: ScriptMatching = Field(default_factory=ScriptMatching)
    cut: CutOptions = Field(default_factory=CutOptions)
    draft_policy: DraftPolicy = Field(default_factory=DraftPolicy)

    @field_validator("weights")
    @classmethod
    def _known_components(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown components {unknown}; known: {', '.join(COMPONENTS)}")
        negative = sorted(k for k, w in value.items() if not w >= 0.0)
        if negative:
            raise ValueError(f"weights must be >= 0, got negative or NaN for {negative}")
        if not any(value.values()):
            raise ValueError("at least one component weight must be > 0")
        return value

    def weight(self, component: str) -> float:
        return float(self.weights.get(component, 0.0))


PresetBook = ConfigPresetBook[Preset]


def for_tagging_preset(book: PresetBook, tagging_preset: str) -> Preset:
    """The preset of the same name as tagging's, else the default (scoring follows the production)."""
    return book.presets.get(tagging_preset) or book.get()


@cache
def load_presets(path: Path = PRESETS_FILE) -> PresetBook:
    """The picks presets file, validated (rushes_config.load_preset_book: the same errors as every stage's)."""
    return load_preset_book(path, Preset, what="picks preset")
