"""Grading presets: how far the matcher may go and when a grade goes to review.

One validated place for the thresholds (the brief: thresholds are configuration, per preset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


class PresetError(ValueError):
    """An unknown preset name or a preset with values out of range."""


@dataclass(frozen=True)
class GradingPreset:
    name: str
    description: str
    review_below: float = 0.7  # confidence under which a grade goes to review instead of applied
    # Predicted CIEDE2000 at which confidence is 0.5 (confidence = 1 / (1 + (dE / half)^2)).
    half_confidence_delta_e: float = 3.5
    skin_protect: float = 0.8
    highlight_knee: float = 0.85
    tone_strength: float = 1.0  # 0: keep the shot's tones, 1: match the reference's percentiles
    max_tone_slope: float = 3.0  # steepest tone-curve segment (and 1/x the flattest)
    max_chroma_scale: float = 2.0
    cdl_max_delta_e: float = 2.0  # the CDL is offered only when it reproduces the grade this well
    frames_per_shot: int = 5
    lut_size: int = 33

    def validated(self) -> GradingPreset:
        checks = [
            ("review_below", 0.0 <= self.review_below <= 1.0),
            ("half_confidence_delta_e", self.half_confidence_delta_e > 0.0),
            ("skin_protect", 0.0 <= self.skin_protect <= 1.0),
            ("highlight_knee", 0.5 <= self.highlight_knee <= 1.0),
            ("tone_strength", 0.0 <= self.tone_strength <= 1.0),
            ("max_tone_slope", self.max_tone_slope >= 1.0),
            ("max_chroma_scale", 1.0 <= self.max_chroma_scale <= 3.0),
            ("cdl_max_delta_e", self.cdl_max_delta_e > 0.0),
            ("frames_per_shot", 1 <= self.frames_per_shot <= 50),
            ("lut_size", 2 <= self.lut_size <= 65),
        ]
        bad = [name for name, ok in checks if not ok]
        if bad:
            raise PresetError(f"grading preset {self.name!r}: out of range: {', '.join(bad)}")
        return self


PRESETS: Final[dict[str, GradingPreset]] = {
    p.name: p.validated()
    for p in (
        GradingPreset("default", "match the reference look; skin and highlights protected"),
        GradingPreset(
            "gentle",
            "half-way tone matching, stronger skin protection (documentary, interviews)",
            tone_strength=0.5,
            skin_protect=1.0,
        ),
        GradingPreset(
            "strict",
            "full match, review anything not within about 1.5 CIEDE2000 (commercials)",
            review_below=0.85,
        ),
    )
}
DEFAULT_PRESET: Final = "default"


def get_preset(name: str | None) -> GradingPreset:
    chosen = name or DEFAULT_PRESET
    try:
        return PRESETS[chosen]
    except KeyError:
        raise PresetError(f"unknown grading preset {chosen!r}; known: {', '.join(sorted(PRESETS))}") from None
