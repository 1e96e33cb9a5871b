"""Enhancement flags: what the enhance service should fix, with the measurement that says so."""

from __future__ import annotations

from .config import AnalysisConfig
from .decision import Flag


def enhancement_flags(
    *, jitter_pct: float, noise_sigma: float, source_width: int, source_height: int, config: AnalysisConfig
) -> list[Flag]:
    """Only the flags that are raised (a value strictly over its threshold)."""
    flags: list[Flag] = []
    if jitter_pct > config.stabilization_jitter_pct:
        flags.append(
            Flag(
                "needs_stabilization",
                round(jitter_pct, 4),
                config.stabilization_jitter_pct,
                f"camera jitter {jitter_pct:.2f}% of the frame width RMS > {config.stabilization_jitter_pct}%",
            )
        )
    if noise_sigma > config.denoise_sigma:
        flags.append(
            Flag(
                "needs_denoise",
                round(noise_sigma, 3),
                config.denoise_sigma,
                f"noise sigma {noise_sigma:.2f} code values > {config.denoise_sigma}",
            )
        )
    short_side = min(source_width, source_height)
    if short_side < config.delivery_short_side:
        flags.append(
            Flag(
                "needs_upscale",
                float(short_side),
                float(config.delivery_short_side),
                f"source {source_width}x{source_height}: shorter side {short_side} < delivery {config.delivery_short_side}",
            )
        )
    return flags
