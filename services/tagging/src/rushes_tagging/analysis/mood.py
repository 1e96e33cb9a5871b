"""Mood: lighting key, contrast, colour temperature and saturation mapped to a few mood words.

These are cinematography conventions (high key reads bright and light, low key with hard contrast
reads tense, orange reads warm), not measurements of emotion, so confidences stay low.
"""

from __future__ import annotations

import cv2
import numpy as np

from .decision import Decision, Evidence, rounded
from .exposure import LumaStats

MODEL = "rushes.mood"


def mean_saturation(pixels_bgr: np.ndarray) -> float:
    if len(pixels_bgr) == 0:
        return 0.0
    hsv = cv2.cvtColor(pixels_bgr.reshape(-1, 1, 3), cv2.COLOR_BGR2HSV).reshape(-1, 3)
    return float(hsv[:, 1].mean()) / 255.0


def decide_mood(*, luma: LumaStats, kelvin: float | None, saturation: float, motion_level: float) -> Decision:
    evidence = Evidence()
    if luma.mean >= 0.6 and luma.dark_share < 0.1:
        key = "high_key"
    elif luma.mean <= 0.35 and luma.dark_share >= 0.5:
        key = "low_key"
    else:
        key = "normal"
    contrast = luma.std  # RMS contrast, 0 .. 0.5
    contrast_label = "hard" if contrast >= 0.27 else "soft" if contrast <= 0.14 else "normal"
    if kelvin is None:
        temperature = "unknown"
    else:
        temperature = "warm" if kelvin < 4800 else "cool" if kelvin > 7500 else "neutral"
    saturation_label = "vivid" if saturation >= 0.45 else "muted" if saturation <= 0.18 else "normal"
    evidence.add(f"key:{key}")
    evidence.measure("rms_contrast", contrast, 3)
    evidence.add(f"temperature:{temperature}")
    evidence.measure("saturation", saturation, 3)

    moods: list[str] = []
    if key == "high_key" or (luma.mean >= 0.55 and key == "normal"):
        moods.append("bright")
    elif key == "low_key" or luma.mean <= 0.3:
        moods.append("dark")
    if temperature in ("warm", "cool"):
        moods.append(temperature)
    if (key == "low_key" and contrast_label == "hard") or motion_level >= 0.7:
        moods.append("tense")
    elif motion_level <= 0.3 and contrast_label != "hard":
        moods.append("calm")
    if saturation_label == "vivid":
        moods.append("vivid")
    elif saturation_label == "muted":
        moods.append("muted")
    decisive = sum(
        1 for label in (key != "normal", contrast_label != "normal", temperature in ("warm", "cool")) if label
    )
    return Decision(
        value={
            "moods": moods,
            "lighting_key": key,
            "contrast": rounded(contrast, 3),
            "temperature": temperature,
            "saturation": rounded(saturation, 3),
        },
        confidence=round(0.35 + 0.07 * decisive, 3),
        reasons=evidence.tags,
        model=MODEL,
    )
