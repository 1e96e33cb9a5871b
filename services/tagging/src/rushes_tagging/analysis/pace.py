"""Pace: how fast a shot feels, from its length, its motion and (when given) the music's tempo."""

from __future__ import annotations

import math

from .config import AnalysisConfig
from .decision import Decision, Evidence, clamp01, rounded
from .motion import MotionSummary

MODEL = "rushes.pace"
MIN_TEMPO_CONFIDENCE = 0.5  # below this the audio tempo is not used to judge pace


def decide_pace(
    *, shot_length_s: float, motion: MotionSummary, audio_tempo: Decision | None, config: AnalysisConfig
) -> Decision:
    evidence = Evidence()
    evidence.measure("shot_length_s", shot_length_s, 2)
    # Short shots feel fast; on a log scale between the preset's fast and slow lengths.
    low, high = math.log(max(config.fast_shot_s, 0.05)), math.log(max(config.slow_shot_s, 0.1))
    length_term = 1.0 - clamp01((math.log(max(shot_length_s, 1e-3)) - low) / max(high - low, 1e-6))
    motion_term = max(
        clamp01(motion.subject_motion / config.action_motion),
        clamp01(motion.camera_speed_pct_per_s / config.fast_camera_pct_per_s),
    )
    terms = [length_term, motion_term]
    bpm = None
    if audio_tempo is not None and audio_tempo.confidence >= MIN_TEMPO_CONFIDENCE:
        bpm = (
            float(audio_tempo.value["bpm"])
            if isinstance(audio_tempo.value, dict)
            else float(audio_tempo.value)
        )
        terms.append(clamp01((bpm - 80.0) / 80.0))  # 80 BPM reads slow, 160 fast
        evidence.measure("audio_bpm", bpm, 1)
    score = sum(terms) / len(terms)
    evidence.measure("pace_score", score, 2)
    tempo = "fast" if score >= 0.6 else "slow" if score < 0.3 else "medium"
    margin = min(abs(score - 0.6), abs(score - 0.3))
    return Decision(
        value={
            "tempo": tempo,
            "shot_length_s": rounded(shot_length_s, 3),
            "motion_tempo": rounded(motion.raw_motion * 100, 3),
            "camera_speed_pct_per_s": rounded(motion.camera_speed_pct_per_s, 2),
            "audio_bpm": None if bpm is None else rounded(bpm, 1),
        },
        confidence=round(0.45 + 0.3 * clamp01(margin / 0.2), 3),
        reasons=evidence.tags,
        model=MODEL,
    )
