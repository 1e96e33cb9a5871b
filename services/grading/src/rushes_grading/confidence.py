"""Confidence of a grade, from its predicted match error (CIEDE2000 graded vs reference stats)."""

from __future__ import annotations


def confidence_from_delta_e(delta_e: float, half_confidence_delta_e: float) -> float:
    """1 at a perfect match, 0.5 at `half_confidence_delta_e`, toward 0 as the error grows.

    Strictly decreasing in the error, so ordering grades by confidence orders them by error.
    """
    if delta_e != delta_e or delta_e < 0:  # NaN or negative: the error could not be measured
        return 0.0
    return 1.0 / (1.0 + (delta_e / half_confidence_delta_e) ** 2)
