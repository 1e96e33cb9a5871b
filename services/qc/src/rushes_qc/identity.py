"""Identity drift: faces found in the source must keep their place and size in the rendition.

An upscaler that reshapes a face is a failure even when SSIM is high. Boxes come from the
`face_detector` model on Triton (rushes_inference.detect_faces); this module only compares them,
so it is testable without a server. The detector returns boxes, not landmarks: landmark drift is
not measured (said in the report's notes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rushes_qc import measures

MIN_SCORE = 0.5
MIN_IOU = 0.1


@dataclass(frozen=True)
class FaceSample:
    frame: int
    source_luma: np.ndarray  # the aligned pair on one grid (the boxes are in its pixels)
    rendition_luma: np.ndarray
    source_boxes: np.ndarray  # [N, 5]: x, y, w, h, score
    rendition_boxes: np.ndarray


def identity_metrics(samples: Sequence[FaceSample]) -> dict[str, float]:
    """identity_drift (centre shift in source face heights), face_size_change (|h_r / h_s - 1|)
    and skin_texture_retention (mid-band detail kept inside the faces); {} when no face was seen.
    A source face with no rendition face near it counts as drift 1.0 (the face was lost)."""
    drifts: list[float] = []
    sizes: list[float] = []
    skin: list[float] = []
    for sample in samples:
        faces = [b for b in sample.source_boxes if b[4] >= MIN_SCORE]
        found = [b for b in sample.rendition_boxes if b[4] >= MIN_SCORE]
        for face in faces:
            match = max(found, key=lambda b: _iou(face, b), default=None)
            if match is None or _iou(face, match) < MIN_IOU:
                drifts.append(1.0)
                sizes.append(1.0)
                continue
            height = max(float(face[3]), 1.0)
            centre_s = np.array([face[0] + face[2] / 2, face[1] + face[3] / 2])
            centre_r = np.array([match[0] + match[2] / 2, match[1] + match[3] / 2])
            drifts.append(float(np.linalg.norm(centre_r - centre_s)) / height)
            sizes.append(abs(float(match[3]) / height - 1.0))
            ratio = _skin_ratio(sample, face)
            if ratio is not None:
                skin.append(ratio)
    metrics: dict[str, float] = {}
    if drifts:
        metrics["identity_drift"] = max(drifts)
        metrics["face_size_change"] = max(sizes)
        metrics["faces_checked"] = float(len(drifts))
    if skin:
        metrics["skin_texture_retention"] = float(np.median(skin))
    return metrics


def _skin_ratio(sample: FaceSample, box: np.ndarray) -> float | None:
    x, y, w, h = (round(float(v)) for v in box[:4])
    height, width = sample.source_luma.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if x1 - x0 < 12 or y1 - y0 < 12:
        return None
    _, mid_s = measures.band_energies(sample.source_luma[y0:y1, x0:x1])
    _, mid_r = measures.band_energies(sample.rendition_luma[y0:y1, x0:x1])
    return measures.energy_ratio(mid_s, mid_r, np.ones(mid_s.shape, bool))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter_w = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    inter_h = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0
