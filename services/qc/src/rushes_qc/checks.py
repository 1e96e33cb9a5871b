"""Every QC metric a threshold can name: the failure mode it catches and which direction is bad.

One source of truth for the presets validator, the verdict and the documentation (README).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["above", "below"]
FIXES = ("stabilize", "denoise", "upscale", "generic")


@dataclass(frozen=True)
class Metric:
    name: str
    bad: Direction  # "above": larger is worse; "below": smaller is worse
    unit: str
    catches: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("ssim_mean", "below", "", "overall structural damage (SSIM, luma)"),
        Metric("ssim_min", "below", "", "a single badly damaged frame"),
        Metric("psnr_db_mean", "below", "dB", "overall pixel error (PSNR, luma)"),
        Metric("vmaf_mean", "below", "", "perceived quality (VMAF, where ffmpeg has libvmaf)"),
        Metric("vmaf_min", "below", "", "a single frame of poor perceived quality (VMAF)"),
        Metric("flicker_excess", "above", "code values", "frame-to-frame luma pumping beyond the source's"),
        Metric(
            "halo_overshoot", "above", "code values", "halos / ringing from over-sharpening at strong edges"
        ),
        Metric(
            "texture_retention", "below", "ratio", "texture erosion, over-denoising (mid-band detail kept)"
        ),
        Metric("detail_retention", "below", "ratio", "loss of the finest detail (fine-band energy kept)"),
        Metric("edge_sharpness", "below", "ratio", "smearing / blur of edges"),
        Metric("skin_texture_retention", "below", "ratio", "'plastic' skin: detail lost inside faces"),
        Metric("checkerboard_peak", "above", "ratio", "checkerboard from strided upscaling (spectral peaks)"),
        Metric("graphics_aliasing", "above", "ratio", "jaggies / aliasing around graphics and titles"),
        Metric("colour_bleed", "above", "a*b* units", "colour bleeding across chroma edges"),
        Metric("colour_shift_de", "above", "CIEDE2000", "colour / white-balance cast"),
        Metric("colour_drift_de", "above", "CIEDE2000", "colour changing over time (temporal inconsistency)"),
        Metric("jitter_excess_px", "above", "source px", "shake the fix added"),
        Metric("residual_jitter_px", "above", "source px", "shake left after stabilization"),
        Metric("ghosting", "above", "blend weight", "ghosts of the previous frame (motion interpolation)"),
        Metric("identity_drift", "above", "face heights", "faces moved by the fix (position)"),
        Metric("face_size_change", "above", "ratio", "faces resized / reshaped by the fix"),
    )
}
