"""Robust colour statistics of a look: what a shot is matched on, and what a grade is scored on.

Statistics come from pixels sampled over a shot (or one reference frame) in sRGB code values.
Every estimate is robust: clipped pixels and the darkest/brightest tails are trimmed from means,
spreads are median based, tones are percentiles, so a few specular highlights, a logo or a black
border do not drag a grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from rushes_grading import colour_math
from rushes_grading.skin import skin_weight

# Oklab L percentiles the tone curve is matched at (both ends trimmed: noise and speculars).
TONE_PERCENTILES: Final = (2.0, 10.0, 25.0, 50.0, 75.0, 90.0, 98.0)
TRIM_LOW, TRIM_HIGH = 5.0, 95.0  # luminance percentiles kept for means
CLIPPED_CODE = 0.98  # an encoded channel at or above this is treated as clipped
MAX_SAMPLES: Final = 120_000  # pixels per statistic; more adds time, not accuracy
LUMA_BANDS: Final = 5  # equal-count lightness bands for the representative colours
MONOCHROME_SPREAD: Final = 0.006  # Oklab chroma spread below which a picture has no colour to match


@dataclass(frozen=True)
class LookStats:
    """The statistics of one look (a reference, a shot before or after grading)."""

    linear_mean: tuple[float, float, float]  # trimmed mean of linear RGB (white balance, exposure)
    tone: tuple[float, ...]  # Oklab L at TONE_PERCENTILES
    ab_mean: tuple[float, float]  # trimmed mean of Oklab a, b (the cast)
    chroma_spread: float  # robust spread of Oklab (a, b) around ab_mean (colourfulness)
    # CIELAB colours that stand for the look: per lightness band its mean and mean +/- spread
    # along a* and b* (LUMA_BANDS x 5 colours). CIEDE2000 between two looks' representatives is
    # the match error the confidence is derived from.
    representatives: tuple[tuple[float, float, float], ...]
    clipped_fraction: float
    skin_fraction: float
    pixel_count: int

    @property
    def is_monochrome(self) -> bool:
        return self.chroma_spread < MONOCHROME_SPREAD

    def to_json(self) -> dict[str, Any]:
        return {
            "linear_mean": list(self.linear_mean),
            "tone": list(self.tone),
            "ab_mean": list(self.ab_mean),
            "chroma_spread": self.chroma_spread,
            "representatives": [list(c) for c in self.representatives],
            "clipped_fraction": self.clipped_fraction,
            "skin_fraction": self.skin_fraction,
            "pixel_count": self.pixel_count,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LookStats:
        try:
            return cls(
                linear_mean=_triple(data["linear_mean"]),
                tone=tuple(float(v) for v in data["tone"]),
                ab_mean=(float(data["ab_mean"][0]), float(data["ab_mean"][1])),
                chroma_spread=float(data["chroma_spread"]),
                representatives=tuple(_triple(c) for c in data["representatives"]),
                clipped_fraction=float(data["clipped_fraction"]),
                skin_fraction=float(data["skin_fraction"]),
                pixel_count=int(data["pixel_count"]),
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ValueError(f"stored look statistics are malformed: {exc!r}") from None


def _triple(values: Any) -> tuple[float, float, float]:
    return float(values[0]), float(values[1]), float(values[2])


def sample_pixels(frames: list[np.ndarray], limit: int = MAX_SAMPLES) -> np.ndarray:
    """(N, 3) float code values from RGB frames, strided evenly down to at most `limit` pixels."""
    if not frames:
        raise ValueError("no frames to take statistics from")
    flat = np.concatenate([colour_math.to_float(f).reshape(-1, 3) for f in frames])
    stride = max(1, int(np.ceil(len(flat) / limit)))
    return flat[::stride]


def measure(encoded: np.ndarray) -> LookStats:
    """Statistics of (N, 3) sRGB code values in [0, 1]."""
    pixels = np.asarray(encoded, dtype=np.float64).reshape(-1, 3)
    if len(pixels) == 0:
        raise ValueError("no pixels to take statistics from")
    linear = colour_math.decode_srgb(pixels)
    oklab = colour_math.linear_to_oklab(linear)
    lightness = oklab[:, 0]
    clipped = pixels.max(axis=1) >= CLIPPED_CODE
    low, high = np.percentile(lightness, [TRIM_LOW, TRIM_HIGH])
    kept = (lightness >= low) & (lightness <= high) & ~clipped
    if kept.sum() < max(16, len(pixels) // 50):
        kept = ~clipped if (~clipped).any() else np.ones(len(pixels), dtype=bool)
    ab = oklab[kept, 1:]
    ab_mean = ab.mean(axis=0)
    spread = float(np.median(np.linalg.norm(ab - ab_mean, axis=1)))
    return LookStats(
        linear_mean=_triple(np.maximum(linear[kept].mean(axis=0), 1e-6)),
        tone=tuple(float(v) for v in np.percentile(lightness, TONE_PERCENTILES)),
        ab_mean=(float(ab_mean[0]), float(ab_mean[1])),
        chroma_spread=spread,
        representatives=tuple(_triple(c) for c in representatives(pixels)),
        clipped_fraction=float(clipped.mean()),
        skin_fraction=float(np.mean(skin_weight(oklab) > 0.5)),
        pixel_count=len(pixels),
    )


def representatives(encoded: np.ndarray) -> np.ndarray:
    """(LUMA_BANDS * 5, 3) CIELAB colours standing for the look (see LookStats.representatives)."""
    lab = colour_math.encoded_to_lab(encoded)
    order = np.argsort(lab[:, 0], kind="stable")
    colours = []
    for band in np.array_split(order, LUMA_BANDS):
        chosen = lab[band] if len(band) else lab
        mean = chosen.mean(axis=0)
        along_a = np.array([0.0, chosen[:, 1].std(), 0.0])
        along_b = np.array([0.0, 0.0, chosen[:, 2].std()])
        colours += [mean, mean + along_a, mean - along_a, mean + along_b, mean - along_b]
    return np.asarray(colours)


def match_error(a: LookStats | np.ndarray, b: LookStats) -> float:
    """Mean CIEDE2000 between two looks' representative colours (lower: closer looks)."""
    reps_a = np.asarray(a.representatives if isinstance(a, LookStats) else a)
    return float(np.mean(colour_math.delta_e_2000(reps_a, np.asarray(b.representatives))))
