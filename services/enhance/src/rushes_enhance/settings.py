"""The enhance service's own limits and defaults (RUSHES_ENHANCE_*), one validated place.

Work is bounded per job: frames are streamed (a stabilizer keeps 4 floats per frame, a denoiser a
window of 2*radius+1 frames), and these limits refuse what would not finish in reasonable time.
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from rushes_config import ConfigError


class EnhanceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RUSHES_ENHANCE_", extra="ignore", validate_default=True)

    max_frames: int = Field(216_000, ge=1, description="Longest clip (in frames) one rendition may cover.")
    max_source_pixels: int = Field(
        1920 * 1080, ge=64, description="Largest source frame area accepted (the proxy is at most 720p)."
    )
    max_output_pixels: int = Field(3840 * 2160, ge=64, description="Largest rendition frame area.")
    max_source_bytes: int = Field(8 * 1024**3, ge=1024, description="Largest proxy downloaded.")
    analysis_max_side: int = Field(
        480, ge=64, le=4096, description="Longest side frames are scaled to for motion analysis."
    )
    smoothing_radius: int = Field(
        15, ge=1, le=300, description="Camera-path moving average, frames each side."
    )
    max_crop: float = Field(0.12, gt=0, lt=0.4, description="Most of each side stabilization may crop.")
    temporal_radius: int = Field(2, ge=0, le=5, description="Denoise: neighbour frames each side.")
    upscale_factor: int = Field(2, ge=2, le=2, description="The served model is x2.")
    upscale_model: str = Field("upscaler", min_length=1, description="Triton model name.")
    upscale_model_max_pixels: int = Field(
        320 * 240,
        ge=16,
        description="Largest frame sent to the learned model: ~3 s per 320x240 frame on 2 CPU cores. "
        "Larger frames use the classical path, announced in the rendition's reasons.",
    )
    model_ready_timeout_s: float = Field(
        30.0, ge=0, le=3600, description="How long to wait (with backoff) for the model before falling back."
    )
    crf: int = Field(16, ge=0, le=51, description="x264 quality of renditions (lower is better).")


def load_enhance_settings() -> EnhanceSettings:
    try:
        return EnhanceSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"RUSHES_ENHANCE_{'_'.join(str(p).upper() for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid enhance configuration: {problems}") from None
