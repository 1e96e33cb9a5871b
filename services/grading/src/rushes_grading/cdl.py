"""ASC CDL (slope, offset, power, saturation) for a grade, where it is expressible that way.

The CDL is applied to code values: out = clamp(in * slope + offset) ^ power per channel, then
saturation around Rec.709 luma. A grade's tone curve, chroma transfer and skin protection are
not CDL operations, so the fit is checked against the grade itself and offered only when it
reproduces it within `max_delta_e` CIEDE2000 (mean over a grid of colours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from xml.sax.saxutils import escape

import numpy as np

from rushes_grading import colour_math, transform
from rushes_grading.transform import GradeParams

POWERS: Final = np.exp(np.linspace(np.log(0.33), np.log(3.0), 121))
FIT_GRID: Final = 9  # colours per axis the CDL is checked on
NEUTRAL_STEPS: Final = 64


@dataclass(frozen=True)
class Cdl:
    slope: tuple[float, float, float]
    offset: tuple[float, float, float]
    power: tuple[float, float, float]
    saturation: float
    fit_delta_e: float  # mean CIEDE2000 between the CDL and the grade on FIT_GRID^3 colours

    def to_xml(self, correction_id: str) -> str:
        """An ASC CDL ColorCorrection (.cc) file."""

        def triple(values: tuple[float, float, float]) -> str:
            return " ".join(f"{v:.6f}" for v in values)

        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ColorCorrection id="{escape(correction_id, {chr(34): "&quot;"})}">\n'
            "  <SOPNode>\n"
            f"    <Slope>{triple(self.slope)}</Slope>\n"
            f"    <Offset>{triple(self.offset)}</Offset>\n"
            f"    <Power>{triple(self.power)}</Power>\n"
            "  </SOPNode>\n"
            "  <SatNode>\n"
            f"    <Saturation>{self.saturation:.6f}</Saturation>\n"
            "  </SatNode>\n"
            "</ColorCorrection>\n"
        )


def apply_cdl(encoded: np.ndarray, cdl: Cdl) -> np.ndarray:
    sop = np.clip(encoded * np.asarray(cdl.slope) + np.asarray(cdl.offset), 0.0, 1.0) ** np.asarray(cdl.power)
    luma = (sop @ colour_math.REC709_LUMA)[..., None]
    return np.asarray(np.clip(luma + cdl.saturation * (sop - luma), 0.0, 1.0))


def _fit_channel(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """slope, offset, power minimising the squared error of (x*s + o)^p against y."""
    best: tuple[float, float, float, float] | None = None
    design = np.stack([x, np.ones_like(x)], axis=1)
    for power in POWERS:
        linearised = np.clip(y, 0.0, 1.0) ** (1.0 / power)
        (slope, offset), *_ = np.linalg.lstsq(design, linearised, rcond=None)
        fitted = np.clip(x * slope + offset, 0.0, 1.0) ** power
        error = float(np.mean((fitted - y) ** 2))
        if best is None or error < best[0]:
            best = (error, float(slope), float(offset), float(power))
    assert best is not None
    return best[1], best[2], best[3]


def fit(params: GradeParams) -> Cdl:
    """The CDL closest to the grade (per channel on the neutral axis, saturation on the grid)."""
    ramp = np.linspace(0.0, 1.0, NEUTRAL_STEPS)
    neutral_out = transform.apply(np.repeat(ramp[:, None], 3, axis=1), params)
    channels = [_fit_channel(ramp, neutral_out[:, c]) for c in range(3)]
    slope = tuple(c[0] for c in channels)
    offset = tuple(c[1] for c in channels)
    power = tuple(c[2] for c in channels)
    axis = np.linspace(0.0, 1.0, FIT_GRID)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    wanted = transform.apply(grid, params)
    unsaturated = Cdl(slope, offset, power, 1.0, 0.0)  # type: ignore[arg-type]
    sop = apply_cdl(grid, unsaturated)
    luma = (sop @ colour_math.REC709_LUMA)[:, None]
    chroma, target_chroma = (sop - luma).ravel(), (wanted - luma).ravel()
    saturation = float(np.clip(chroma @ target_chroma / max(chroma @ chroma, 1e-12), 0.0, 4.0))
    cdl = Cdl(slope, offset, power, saturation, 0.0)  # type: ignore[arg-type]
    error = colour_math.mean_delta_e(apply_cdl(grid, cdl), wanted)
    return Cdl(slope, offset, power, saturation, error)  # type: ignore[arg-type]
