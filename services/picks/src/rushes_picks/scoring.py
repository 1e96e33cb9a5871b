"""One take's score: technical and performance components, their weighted mean, a confidence and reasons.

Components are each in [0, 1]; a component that cannot be measured (no audio, nothing said, no
face detection) is left out of the mean rather than counted as bad, and lowers the confidence
instead. Reasons are short human-readable tags an editor reads next to the pick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from rushes.asset.v1 import asset_pb2

from rushes_picks.audio_levels import AudioLevels
from rushes_picks.delivery import read_delivery
from rushes_picks.presets import Preset

TECHNICAL = ("focus", "exposure", "stability", "noise", "frames", "audio")
PERFORMANCE = ("delivery", "clarity", "faces")
# A whole-clip's frame count may differ from duration x fps by this share before frames count as dropped.
DROPPED_FRAME_TOLERANCE = 0.02
# Audio levels that read well: dialogue sits around -20 dBFS; below -40 it is buried in the noise.
GOOD_RMS_DBFS = (-32.0, -10.0)
QUIET_RMS_DBFS = -50.0
CLIPPED_FRACTION = 0.0005
NOISY_FLOOR_DBFS = -40.0


@dataclass(frozen=True)
class TakeEvidence:
    """Everything one take is scored from."""

    start_s: float
    end_s: float
    # Tagging's decisions on the shot (empty when tagging did not run).
    values: Mapping[str, asset_pb2.AiValue] = field(default_factory=dict)
    words: Sequence[asset_pb2.Word] = ()
    # "ok" | "no_speech" | "not_run" | "failed": whether an empty `words` means silence.
    transcript: str = "ok"
    audio: AudioLevels | None = None
    technical: asset_pb2.Technical = field(default_factory=asset_pb2.Technical)


@dataclass
class TakeScore:
    score: float
    confidence: float
    verdict: str  # "usable" | "unusable"
    needs_review: bool
    reasons: list[str]
    components: dict[str, float]
    measurements: dict[str, float]


def _value(values: Mapping[str, asset_pb2.AiValue], name: str) -> tuple[Any, float] | None:
    decision = values.get(name)
    if decision is None or not decision.HasField("value"):
        return None
    return json_format.MessageToDict(decision.value), decision.confidence


def _verdict(found: tuple[Any, float] | None) -> str:
    if found is None or not isinstance(found[0], dict):
        return ""
    return str(found[0].get("verdict", ""))


class _Card:
    """Collects components, the confidences behind them, reasons and measurements."""

    def __init__(self) -> None:
        self.components: dict[str, float] = {}
        self.confidences: list[float] = []
        self.reasons: list[str] = []
        self.measurements: dict[str, float] = {}

    def add(self, name: str, score: float, confidence: float, *reasons: str) -> None:
        self.components[name] = round(min(1.0, max(0.0, score)), 4)
        self.confidences.append(min(1.0, max(0.0, confidence)))
        self.reasons.extend(r for r in reasons if r)


def _technical(card: _Card, evidence: TakeEvidence) -> None:
    values = evidence.values
    if (sharp := _value(values, "sharpness")) is not None:
        body, conf = sharp
        score = float(body.get("score", 0.5)) if isinstance(body, dict) else 0.5
        soft = _verdict(sharp) == "soft"
        card.add("focus", min(score, 0.4) if soft else score, conf, "soft focus" if soft else "")
        card.measurements["sharpness"] = score
    if (exposure := _value(values, "exposure")) is not None:
        body, conf = exposure
        clipped = float(body.get("clipped_highlights_pct", 0.0)) if isinstance(body, dict) else 0.0
        verdict = _verdict(exposure)
        score = 1.0 if verdict in ("ok", "") else 0.35
        reasons = [{"over": "overexposed", "under": "underexposed"}.get(verdict, "")]
        if clipped > 1.0:
            score -= min(0.3, clipped / 20.0)
            reasons.append("highlights clipped")
        card.add("exposure", score, conf, *reasons)
        card.measurements["clipped_highlights_pct"] = clipped
    if (shake := _value(values, "shakiness")) is not None:
        shaky = _verdict(shake) == "shaky"
        card.add("stability", 0.35 if shaky else 1.0, shake[1], "shaky camera" if shaky else "")
    if (noise := _value(values, "noise")) is not None:
        noisy = _verdict(noise) == "noisy"
        card.add("noise", 0.4 if noisy else 1.0, noise[1], "noisy image" if noisy else "")
    _frames(card, evidence.technical)
    _audio(card, evidence.audio)


def _frames(card: _Card, technical: asset_pb2.Technical) -> None:
    if not technical.has_video or technical.fps <= 0 or technical.duration_s <= 0:
        return
    expected = technical.duration_s * technical.fps
    if technical.frame_count:
        shortfall = (expected - technical.frame_count) / expected
        card.measurements["frame_shortfall"] = round(shortfall, 4)
        if shortfall > DROPPED_FRAME_TOLERANCE:
            card.add("frames", 0.3, 0.7, "dropped frames suspected")
            return
    if technical.variable_frame_rate:
        card.add("frames", 0.7, 0.7, "variable frame rate")
        return
    card.add("frames", 1.0, 0.8)


def _audio(card: _Card, levels: AudioLevels | None) -> None:
    if levels is None:
        return
    card.measurements.update(
        audio_rms_dbfs=levels.rms_dbfs,
        audio_peak_dbfs=levels.peak_dbfs,
        audio_clipped_fraction=levels.clipped_fraction,
        audio_noise_floor_dbfs=levels.noise_floor_dbfs,
    )
    low, high = GOOD_RMS_DBFS
    reasons = []
    if levels.rms_dbfs < low:
        score = max(0.0, (levels.rms_dbfs - QUIET_RMS_DBFS) / (low - QUIET_RMS_DBFS))
        reasons.append("audio too quiet")
    elif levels.rms_dbfs > high:
        score = 0.7
        reasons.append("audio very loud")
    else:
        score = 1.0
    if levels.clipped_fraction > CLIPPED_FRACTION:
        score -= 0.5
        reasons.append("audio clipped")
    if levels.noise_floor_dbfs > NOISY_FLOOR_DBFS:
        score -= 0.2
        reasons.append("noisy audio")
    card.add("audio", score, 0.8, *reasons)


def _performance(card: _Card, evidence: TakeEvidence, preset: Preset) -> None:
    reading = read_delivery(evidence.words, evidence.start_s, evidence.end_s)
    if reading is not None:
        card.add("delivery", reading.score, 0.5 + 0.5 * reading.mean_probability, *reading.reasons)
        card.add(
            "clarity",
            reading.mean_probability,
            0.8,
            "unclear speech" if reading.mean_probability < 0.6 else "",
        )
        card.measurements.update(
            words=reading.word_count,
            restarts=reading.restarts,
            fillers=reading.fillers,
            stumbles=reading.stumbles,
        )
    elif evidence.transcript == "failed":
        card.reasons.append("no transcript (asr failed)")
    if (shot_type := _value(evidence.values, "shot_type")) is not None:
        share = _face_share(evidence.values["shot_type"].reasons)
        if share is not None:
            card.add("faces", share, shot_type[1], "subject in frame" if share >= 0.5 else "")
            card.measurements["face_share"] = share
    duration = evidence.end_s - evidence.start_s
    fit = preset.duration
    if duration < fit.min_s:
        card.add("duration_fit", duration / fit.min_s if fit.min_s else 1.0, 1.0, "too short")
    elif duration > fit.max_s:
        card.add("duration_fit", max(0.0, 1.0 - (duration - fit.max_s) / fit.max_s), 1.0, "too long")
    else:
        card.add("duration_fit", 1.0, 1.0)


def _face_share(reasons: Sequence[str]) -> float | None:
    """Tagging's shot_type reasons carry "faces_in=NN%_of_M_frames"; none when faces were not checked."""
    if "faces_not_evaluated" in reasons:
        return None
    for reason in reasons:
        if reason.startswith("faces_in=") and "%" in reason:
            try:
                return round(float(reason.removeprefix("faces_in=").split("%", 1)[0]) / 100.0, 4)
            except ValueError:
                return None
    return 0.0 if "fallback:no_face" in reasons else None


def _weighted(components: Mapping[str, float], names: Sequence[str], preset: Preset) -> float | None:
    total = sum(preset.weight(n) for n in names if n in components)
    if total <= 0:
        return None
    return sum(components[n] * preset.weight(n) for n in names if n in components) / total


def score_take(evidence: TakeEvidence, preset: Preset) -> TakeScore:
    if not evidence.end_s > evidence.start_s:
        raise ValueError(f"take must end after it starts, got {evidence.start_s}..{evidence.end_s} s")
    card = _Card()
    _technical(card, evidence)
    _performance(card, evidence, preset)
    everything = tuple(card.components)
    score = _weighted(card.components, everything, preset) or 0.0
    technical = _weighted(card.components, TECHNICAL, preset)
    performance = _weighted(card.components, PERFORMANCE, preset)
    if technical is not None:
        card.measurements["technical"] = round(technical, 4)
    if performance is not None:
        card.measurements["performance"] = round(performance, 4)
    # How much of what the preset weighs could be measured: a take judged on focus alone is a guess.
    weight_all = sum(preset.weights.values())
    covered = sum(preset.weight(n) for n in card.components) / weight_all if weight_all else 0.0
    inputs = sum(card.confidences) / len(card.confidences) if card.confidences else 0.0
    confidence = round(inputs * (0.4 + 0.6 * covered), 4)
    verdict = "usable" if score >= preset.usable_below else "unusable"
    needs_review = confidence < preset.review_below
    reasons = list(dict.fromkeys(card.reasons))
    if verdict == "unusable":
        reasons.append(f"score {score:.2f} below {preset.usable_below:.2f}")
    if needs_review:
        reasons.append("low confidence: to review")
    return TakeScore(
        score=round(score, 4),
        confidence=confidence,
        verdict=verdict,
        needs_review=needs_review,
        reasons=reasons,
        components=dict(card.components),
        measurements={k: float(v) for k, v in card.measurements.items()},
    )
