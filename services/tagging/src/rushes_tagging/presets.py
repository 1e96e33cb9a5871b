"""Tagging presets: one YAML file, validated at start (an unknown field or threshold is an error)."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from rushes_config import PresetBook, load_preset_book
from rushes_config import PresetError as PresetError  # re-exported: callers catch it from here

from rushes_tagging.analysis import FIELDS
from rushes_tagging.analysis.config import AnalysisConfig, AnalysisConfigError

PRESETS_FILE = Path(__file__).with_name("presets.yaml")
# Every field the analyzers decide; a preset logs a subset of them.
KNOWN_FIELDS = FIELDS
KNOWN_CATEGORIES = ("interview", "action", "graphic", "b_roll", "scene")


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    description: str = ""
    fields: tuple[str, ...] = KNOWN_FIELDS
    categories: tuple[str, ...] = KNOWN_CATEGORIES
    review_below: float = Field(0.5, ge=0.0, le=1.0)
    review_below_by_field: dict[str, float] = Field(default_factory=dict)
    analysis: dict[str, Any] = Field(default_factory=dict)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(KNOWN_FIELDS))
        if unknown:
            raise ValueError(f"unknown fields {unknown}; known: {', '.join(KNOWN_FIELDS)}")
        return value

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(KNOWN_CATEGORIES))
        if unknown or not value:
            raise ValueError(f"categories must be a non-empty subset of {', '.join(KNOWN_CATEGORIES)}")
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> Preset:
        for name, threshold in self.review_below_by_field.items():
            if name not in KNOWN_FIELDS:
                raise ValueError(f"review_below_by_field names unknown field {name!r}")
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"review_below_by_field.{name} must be within [0, 1]")
        self.analysis_config()  # raises on an unknown or out-of-range threshold
        return self

    def analysis_config(self) -> AnalysisConfig:
        known = {f.name for f in dataclasses.fields(AnalysisConfig)}
        unknown = sorted(set(self.analysis) - known)
        if unknown:
            raise ValueError(f"unknown analysis thresholds {unknown}")
        try:
            return AnalysisConfig(**self.analysis)
        except (AnalysisConfigError, TypeError) as exc:
            raise ValueError(f"analysis thresholds: {exc}") from None

    def review_threshold(self, field: str) -> float:
        return self.review_below_by_field.get(field, self.review_below)


PresetFile = PresetBook[Preset]


def load_presets(path: Path = PRESETS_FILE) -> PresetBook[Preset]:
    return load_preset_book(path, Preset, what="tagging preset")


@cache
def bundled_presets() -> PresetBook[Preset]:
    return load_presets()


def get_preset(name: str | None, presets: PresetBook[Preset] | None = None) -> Preset:
    return (presets or bundled_presets()).get(name)
