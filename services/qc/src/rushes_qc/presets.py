"""QC presets: acceptance criteria per fix type, in one validated YAML file (presets.yaml).

A preset holds the analysis options and, per fix ("stabilize", "denoise", "upscale"), the review
and fail thresholds of each metric; the "generic" rules apply to every fix and a fix's own rules
override them (a threshold set to null switches a check off for that fix). Anything unknown or
inconsistent (a review threshold past its fail threshold) is an error at start, naming the field.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from rushes_config import PresetBook, load_preset_book
from rushes_config import PresetError as PresetError  # re-exported: callers catch it from here

from rushes_qc.checks import FIXES, METRICS

PRESETS_FILE = Path(__file__).with_name("presets.yaml")


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    review: float
    fail: float


class AnalysisOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    analysis_width: int = Field(320, ge=64, le=1920, description="Width of the grid frames are compared on.")
    full_every: int = Field(2, ge=1, le=30, description="Full-reference measures on every Nth frame.")
    spectral_every: int = Field(4, ge=1, le=60, description="Native-resolution tile checks every Nth frame.")
    tile: int = Field(128, ge=32, le=512, description="Tile side (rendition pixels) for spectral checks.")
    face_samples: int = Field(3, ge=0, le=16, description="Frames per shot sent to the face detector.")
    vmaf: bool = Field(False, description="Also run VMAF through ffmpeg's libvmaf (a third decode).")
    diff_maps: int = Field(2, ge=0, le=8, description="Difference maps stored per flagged shot.")

    @field_validator("tile")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError("tile must be a power of two (FFT size)")
        return value


class FixRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    motion_compensate: bool | None = Field(
        None, description="Align each rendition frame to its source by its global shift first (stabilize)."
    )
    thresholds: dict[str, Threshold | None] = Field(default_factory=dict)

    @field_validator("thresholds")
    @classmethod
    def _known_and_ordered(cls, value: dict[str, Threshold | None]) -> dict[str, Threshold | None]:
        for name, threshold in value.items():
            metric = METRICS.get(name)
            if metric is None:
                raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
            if threshold is None:
                continue
            worse = (
                threshold.fail >= threshold.review
                if metric.bad == "above"
                else threshold.fail <= threshold.review
            )
            if not worse:
                raise ValueError(
                    f"{name}: fail ({threshold.fail}) must be {metric.bad} review ({threshold.review})"
                )
        return value


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    description: str = ""
    analysis: AnalysisOptions = Field(default_factory=AnalysisOptions)
    fixes: dict[str, FixRules]

    @model_validator(mode="after")
    def _fixes(self) -> Preset:
        unknown = sorted(set(self.fixes) - set(FIXES))
        if unknown:
            raise ValueError(f"unknown fixes {unknown}; known: {', '.join(FIXES)}")
        if "generic" not in self.fixes:
            raise ValueError("a preset needs 'generic' rules (the base of every fix)")
        return self

    def rules(self, fix: str) -> ResolvedRules:
        """The generic rules with `fix`'s overrides applied. Unknown fixes get the generic rules
        (a rendition made elsewhere may name its own kind of fix)."""
        base = self.fixes["generic"]
        own = self.fixes.get(fix, FixRules())
        merged = {**base.thresholds, **own.thresholds}
        thresholds = {name: t for name, t in merged.items() if t is not None}
        compensate = (
            own.motion_compensate if own.motion_compensate is not None else bool(base.motion_compensate)
        )
        return ResolvedRules(fix=fix, thresholds=thresholds, motion_compensate=compensate)


class ResolvedRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    fix: str
    thresholds: dict[str, Threshold]
    motion_compensate: bool


def load_presets(path: Path = PRESETS_FILE) -> PresetBook[Preset]:
    return load_preset_book(path, Preset, what="QC preset")


@cache
def _default_file() -> PresetBook[Preset]:
    return load_presets()


def get_preset(name: str = "") -> Preset:
    """A preset by name ("" = the file's default); PresetError names the known ones."""
    return _default_file().get(name)
