"""Shot type (framing) from the size of the largest face, with a no-face fallback.

Framing scales are defined by how much of a person the frame holds, and the face is the part a
detector finds reliably: face height / frame height is about 0.6+ in an extreme close-up and under
0.035 in an extreme wide shot. Without a person, framing is guessed from two picture cues with an
honest low confidence: a sharp centre on a defocused surround (shallow depth of field: close
framing) and fine detail spread evenly over the frame (a wide vista).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import AnalysisConfig
from .decision import Decision, Evidence, FaceBox, margin_confidence, rounded

MODEL = "rushes.shot_type"
SHOT_TYPES = ("extreme_close_up", "close_up", "medium", "wide", "extreme_wide")
GRID = 4  # detail measured on a 4x4 grid of cells for the fallback


@dataclass(frozen=True)
class FaceFrameSummary:
    """The faces of one evaluated frame, reduced to what framing and category need."""

    count: int
    largest_ratio: float  # face height / frame height of the largest face (0 when none)
    largest_centre: tuple[float, float] | None


def summarise_faces(faces: Sequence[FaceBox], config: AnalysisConfig) -> FaceFrameSummary:
    kept = [f for f in faces if f.score >= config.min_face_score]
    if not kept:
        return FaceFrameSummary(0, 0.0, None)
    largest = max(kept, key=lambda f: f.h)
    return FaceFrameSummary(len(kept), float(largest.h), largest.centre)


def shot_type_for_ratio(ratio: float, config: AnalysisConfig) -> tuple[str, float]:
    """(type, log-distance to the nearest boundary) for a face height ratio."""
    bounds = [config.extreme_close_up_ratio, config.close_up_ratio, config.medium_ratio, config.wide_ratio]
    index = next((i for i, bound in enumerate(bounds) if ratio >= bound), len(bounds))
    margin = min(abs(math.log(max(ratio, 1e-6) / bound)) for bound in bounds)
    return SHOT_TYPES[index], margin


def detail_grid(abs_laplacian: np.ndarray) -> np.ndarray:
    """Mean |Laplacian| per cell of a 4x4 grid: where the frame holds in-focus detail."""
    height, width = abs_laplacian.shape
    cells = abs_laplacian[: height // GRID * GRID, : width // GRID * GRID].astype(np.float32)
    return cells.reshape(GRID, height // GRID, GRID, width // GRID).mean(axis=(1, 3))


def decide_shot_type(
    face_frames: list[FaceFrameSummary] | None, grids: list[np.ndarray], config: AnalysisConfig
) -> Decision:
    """`face_frames` is None when no face detection ran for the shot (not the same as no faces)."""
    evidence = Evidence()
    if face_frames:
        with_face = [f for f in face_frames if f.count]
        share = len(with_face) / len(face_frames)
        if share >= config.min_face_frame_fraction and with_face:
            ratio = float(np.median([f.largest_ratio for f in with_face]))
            shot_type, margin = shot_type_for_ratio(ratio, config)
            evidence.measure("face_height_ratio", ratio)
            evidence.add(f"faces_in={share * 100:.0f}%_of_{len(face_frames)}_frames")
            confidence = margin_confidence(margin, math.log(1.6), floor=0.5, ceiling=0.92)
            confidence = round(confidence * (0.6 + 0.4 * share), 3)
            return Decision(value=shot_type, confidence=confidence, reasons=evidence.tags, model=MODEL)
        evidence.add("fallback:no_face")
        evidence.add(f"faces_in={share * 100:.0f}%_of_{len(face_frames)}_frames")
    else:
        evidence.add("fallback:no_face")
        evidence.add("faces_not_evaluated")
    return _fallback(grids, evidence)


def _fallback(grids: list[np.ndarray], evidence: Evidence) -> Decision:
    if not grids:
        evidence.add("no_frames")
        return Decision(value="medium", confidence=0.1, reasons=evidence.tags, model=MODEL)
    grid = np.mean(grids, axis=0)
    centre = float(grid[1:3, 1:3].mean())
    border_mask = np.ones((GRID, GRID), dtype=bool)
    border_mask[1:3, 1:3] = False
    border = float(grid[border_mask].mean())
    dof_ratio = centre / max(border, 0.05)
    evenness = float(grid.min() / max(grid.max(), 1e-6))
    mean_detail = float(grid.mean())
    evidence.measure("dof_ratio", dof_ratio, 2)
    evidence.measure("detail_evenness", evenness, 2)
    evidence.measure("mean_detail", mean_detail, 2)
    if dof_ratio >= 2.5 and centre >= 2.0:
        shot_type, confidence = "close_up", 0.3 + 0.1 * min(1.0, (dof_ratio - 2.5) / 2.5)
        evidence.add("cue:sharp_centre_soft_surround")
    elif evenness >= 0.35 and mean_detail >= 4.0:
        shot_type, confidence = "wide", 0.3 + 0.1 * min(1.0, (evenness - 0.35) / 0.3)
        evidence.add("cue:even_fine_detail")
    else:
        shot_type, confidence = "medium", 0.2
        evidence.add("cue:none_decisive")
    return Decision(value=shot_type, confidence=round(confidence, 3), reasons=evidence.tags, model=MODEL)


def face_stability(face_frames: list[FaceFrameSummary]) -> float | None:
    """Spread of the largest face's centre across frames, in face heights (a talking head stays put)."""
    placed = [f for f in face_frames if f.largest_centre is not None]
    if len(placed) < 2:
        return None
    centres = np.array([f.largest_centre for f in placed])
    size = float(np.median([f.largest_ratio for f in placed]))
    return rounded(float(np.linalg.norm(centres.std(axis=0))) / max(size, 1e-3), 4)
