"""What the enhance stage exports (declared once, bounded labels)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from rushes_enhance.fixes import FIXES
from rushes_enhance.renderer import RenderResult
from rushes_enhance.upscale import CLASSICAL_MODEL

RENDITIONS = Counter("rushes_enhance_renditions_total", "Renditions stored, by fix.", ["fix"])
CLASSICAL_FALLBACKS = Counter(
    "rushes_enhance_classical_fallbacks_total", "Upscales made by the classical path instead of the model."
)
RENDER_SECONDS = Histogram(
    "rushes_enhance_render_duration_seconds",
    "Wall time of rendering one fix of one clip.",
    ["fix"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)
RESIDUAL_JITTER = Histogram(
    "rushes_enhance_residual_jitter_pixels",
    "Camera jitter left after stabilization (source pixels RMS).",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8),
)

for _fix in FIXES:
    RENDITIONS.labels(fix=_fix)
    RENDER_SECONDS.labels(fix=_fix)


def record(result: RenderResult, seconds: float) -> None:
    RENDITIONS.labels(fix=result.fix).inc()
    RENDER_SECONDS.labels(fix=result.fix).observe(seconds)
    if result.fix == "upscale" and result.model_name == CLASSICAL_MODEL:
        CLASSICAL_FALLBACKS.inc()
    if result.fix == "stabilize":
        RESIDUAL_JITTER.observe(result.measurements.get("residual_jitter_px", 0.0))
