"""Category: interview / action / graphic / b_roll / scene, from a handful of cues.

A score per category, each the product of the cues that define it:
- interview: a face in most frames, staying put, a steady camera, speech, one person, close-ish;
- scene: people, but moving, several of them, or without the interview's stillness;
- action: strong subject motion or fast camera moves;
- graphic: flat computer-generated frames (titles, slides, bars, black);
- b_roll: no people and little happening.
The category with the highest score wins; confidence follows its lead over the runner-up and is
capped well below 1 because these are hand-set rules, not a trained classifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import AnalysisConfig
from .decision import Decision, Evidence, clamp01
from .motion import MotionSummary
from .shot_type import FaceFrameSummary, face_stability

MODEL = "rushes.category"
CATEGORIES = ("interview", "action", "graphic", "b_roll", "scene")
FRAMING_FOR_INTERVIEW = {
    "extreme_close_up": 0.6,
    "close_up": 1.0,
    "medium": 1.0,
    "wide": 0.35,
    "extreme_wide": 0.1,
}


@dataclass(frozen=True)
class CategoryCues:
    face_frames: list[FaceFrameSummary] | None
    shot_type: str
    motion: MotionSummary
    graphic_scores: list[float]
    black_share: float
    bars_share: float
    speech_fraction: float | None


def category_scores(cues: CategoryCues, config: AnalysisConfig, evidence: Evidence) -> dict[str, float]:
    graphic_frames = float(np.mean(cues.graphic_scores)) if cues.graphic_scores else 0.0
    subject = clamp01(cues.motion.subject_motion / config.action_motion)
    camera = clamp01(cues.motion.camera_speed_pct_per_s / config.fast_camera_pct_per_s)
    motion_level = max(subject, camera)
    graphic = max(graphic_frames * (1.0 - 0.5 * subject), cues.black_share, cues.bars_share)
    evidence.measure("graphic", graphic, 2)
    evidence.measure("subject_motion", cues.motion.subject_motion, 4)
    evidence.add(f"camera_speed={cues.motion.camera_speed_pct_per_s:.1f}%_width_per_s")

    if cues.face_frames:
        face_share = sum(1 for f in cues.face_frames if f.count) / len(cues.face_frames)
        counts = [f.count for f in cues.face_frames if f.count]
        people = float(np.median(counts)) if counts else 0.0
        stability = face_stability(cues.face_frames)
        evidence.add(f"faces_in={face_share * 100:.0f}%")
        if stability is not None:
            evidence.measure("face_drift", stability, 2)
    else:
        face_share, people, stability = 0.0, 0.0, None
        evidence.add("faces_not_evaluated")
    still_face = 0.5 if stability is None else 1.0 - clamp01(stability / 0.5)
    steady_camera = 1.0 - clamp01(cues.motion.camera_speed_pct_per_s / (0.5 * config.fast_camera_pct_per_s))
    if cues.speech_fraction is None:
        speech = 0.5
        evidence.add("speech_unknown")
    else:
        speech = clamp01(cues.speech_fraction / max(config.interview_min_speech, 1e-3))
        evidence.add(f"speech={cues.speech_fraction * 100:.0f}%")
    single = 1.0 if people <= 1.0 else 0.8 if people <= 2.0 else 0.4
    framing = FRAMING_FOR_INTERVIEW.get(cues.shot_type, 0.5)
    not_graphic = 1.0 - graphic

    interview = face_share * still_face * steady_camera * (0.4 + 0.6 * speech) * single * framing
    interview *= (1.0 - 0.5 * motion_level) * not_graphic
    busy = max(1.0 - still_face, 1.0 - single, motion_level)
    scene = face_share * (0.5 + 0.5 * busy) * not_graphic
    action = motion_level * not_graphic * (0.9 if face_share else 1.0)
    b_roll = (1.0 - face_share) * (1.0 - motion_level) * not_graphic
    return {"interview": interview, "action": action, "graphic": graphic, "b_roll": b_roll, "scene": scene}


def decide_category(cues: CategoryCues, config: AnalysisConfig) -> Decision:
    evidence = Evidence()
    scores = category_scores(cues, config, evidence)
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    (best, top), (_, runner_up) = ranked[0], ranked[1]
    evidence.add(f"scores={','.join(f'{name}:{score:.2f}' for name, score in ranked)}")
    confidence = 0.2 + 0.6 * clamp01(top - runner_up) + 0.2 * top
    if cues.face_frames is None and best in ("b_roll", "action"):
        confidence *= 0.75  # a person may be there unseen
    return Decision(
        value=best, confidence=round(min(0.85, confidence), 3), reasons=evidence.tags, model=MODEL
    )
