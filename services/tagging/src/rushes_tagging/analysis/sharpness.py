"""Focus: the Crete-Roffet blur index (contrast-independent) with the variance of the Laplacian.

The blur index (Crete-Roffet et al., 2007) compares neighbour differences of the frame with those
of a re-blurred copy: re-blurring a sharp frame destroys a lot of detail, re-blurring a soft one
changes little. It does not depend on scene contrast, unlike the Laplacian variance, which is kept
as a second, resolution-dependent reading (both measured on the analysis frame).
"""

from __future__ import annotations

import cv2
import numpy as np

from .config import AnalysisConfig
from .decision import Decision, Evidence, margin_confidence, rounded

MODEL = "rushes.sharpness"
REBLUR_TAPS = 9


def blur_index(gray: np.ndarray) -> float:
    """0 (crisp) .. 1 (completely blurred). Flat frames return 1: there is nothing in focus."""
    frame = gray.astype(np.float32)
    worst = 0.0
    # cv2.blur's size is (width, height): (1, N) blurs vertically, so compare vertical neighbours.
    for ksize, axis in (((1, REBLUR_TAPS), 0), ((REBLUR_TAPS, 1), 1)):
        reblurred = cv2.blur(frame, ksize)
        d_frame = np.abs(np.diff(frame, axis=axis))
        d_reblur = np.abs(np.diff(reblurred, axis=axis))
        total = float(d_frame.sum())
        if total <= 1e-6:
            return 1.0
        lost = float(np.maximum(0.0, d_frame - d_reblur).sum())
        worst = max(worst, (total - lost) / total)
    return worst


def laplacian_variance(laplacian: np.ndarray) -> float:
    return float(laplacian.astype(np.float32).var())


def decide_sharpness(blur: float, lap_var: float, config: AnalysisConfig) -> Decision:
    evidence = Evidence()
    evidence.measure("blur_index", blur)
    evidence.measure("laplacian_var", lap_var, 1)
    verdict = "soft" if blur > config.soft_blur_threshold else "sharp"
    evidence.add(f"rule:blur_index{'>' if verdict == 'soft' else '<='}{config.soft_blur_threshold}")
    return Decision(
        value={"verdict": verdict, "score": rounded(1.0 - blur), "laplacian_var": rounded(lap_var, 1)},
        # Noise reads as detail and motion blur as defocus: the verdict is good, not certain.
        confidence=margin_confidence(blur - config.soft_blur_threshold, 0.15, floor=0.5, ceiling=0.9),
        reasons=evidence.tags,
        model=MODEL,
    )
