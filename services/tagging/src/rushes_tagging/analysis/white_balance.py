"""White balance: the colour of the light a frame was rendered under, as CCT (kelvin) and tint (Duv).

Method: decode sRGB to linear light, take the gray-world mean of well-exposed pixels, refine it
twice on the pixels whose chromaticity is near that estimate (near-neutral surfaces carry the
illuminant's colour; saturated objects do not), and cross-check with a white-patch estimate (the
brightest unclipped pixels). The estimate, in Rec.709/sRGB primaries, goes to CIE xy, then to CCT
with colour-science (Hernandez 1999, McCamy 1992 below 3000 K where Hernandez is not valid) and to
Duv with Ohno 2013. A frame balanced for D65 reads about 6500 K; an orange cast reads lower.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .config import AnalysisConfig
from .decision import Decision, Evidence, clamp01, rounded

MODEL = "rushes.white_balance"
RGB_TO_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], dtype=np.float64
)
_codes = np.arange(256, dtype=np.float64) / 255.0
SRGB_TO_LINEAR = np.where(_codes <= 0.04045, _codes / 12.92, ((_codes + 0.055) / 1.055) ** 2.4).astype(np.float32)
PIXEL_STRIDE = 2  # every 2nd row and column: the estimate is a mean, 1/4 of the pixels is plenty
MIN_LINEAR = 0.01  # darker pixels are mostly noise and quantisation
MIN_CCT_K, MAX_CCT_K = 1500.0, 25000.0


def _colour():  # type: ignore[no-untyped-def]
    """colour-science, imported lazily and without its 'SciPy/Matplotlib not installed' warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour

    return colour


@dataclass(frozen=True)
class FrameIlluminant:
    """One frame's estimate: linear RGB of the light (sum 1) and how trustworthy the frame was."""

    gray_world: np.ndarray  # refined near-neutral mean, chromaticity-normalised
    white_patch: np.ndarray | None
    neutral_fraction: float  # share of usable pixels near the estimate
    usable_fraction: float  # share of pixels neither clipped nor too dark


def _chroma(rgb: np.ndarray) -> np.ndarray:
    total = rgb.sum(axis=-1, keepdims=True)
    return rgb / np.maximum(total, 1e-9)


def estimate_frame_illuminant(frame_bgr: np.ndarray, config: AnalysisConfig) -> FrameIlluminant | None:
    """None when the frame has too few usable pixels (black, clipped, or a few saturated colours)."""
    codes = frame_bgr[::PIXEL_STRIDE, ::PIXEL_STRIDE].reshape(-1, 3)
    usable = (codes.max(axis=1) < config.clip_level) & (codes.max(axis=1) > 0)
    rgb = SRGB_TO_LINEAR[codes[:, ::-1]]
    usable &= rgb.max(axis=1) > MIN_LINEAR
    if usable.sum() < 64:
        return None
    rgb = rgb[usable]
    chroma = _chroma(rgb)
    estimate = _chroma(rgb.mean(axis=0))
    near = np.ones(len(rgb), dtype=bool)
    for _ in range(2):
        distance = np.hypot(chroma[:, 0] - estimate[0], chroma[:, 2] - estimate[2])
        near = distance < config.neutral_chroma_tolerance
        if near.sum() < 32:
            break
        estimate = _chroma(rgb[near].mean(axis=0))
    brightness = rgb.max(axis=1)
    top = brightness >= np.quantile(brightness, 0.98)
    white_patch = _chroma(rgb[top].mean(axis=0)) if top.sum() >= 8 else None
    return FrameIlluminant(
        gray_world=estimate,
        white_patch=white_patch,
        neutral_fraction=float(near.mean()),
        usable_fraction=float(usable.sum() / len(usable)),
    )


def rgb_to_xy(rgb_linear: np.ndarray) -> np.ndarray:
    xyz = RGB_TO_XYZ @ np.asarray(rgb_linear, dtype=np.float64)
    return xyz[:2] / max(float(xyz.sum()), 1e-12)


def cct_and_duv(xy: np.ndarray) -> tuple[float, float, str]:
    """(kelvin, Duv, method) for a chromaticity; kelvin clamped to [1500, 25000]."""
    colour = _colour()
    kelvin = float(colour.xy_to_CCT(xy, method="Hernandez 1999"))
    method = "hernandez1999"
    if kelvin < 3000.0:
        kelvin = float(colour.xy_to_CCT(xy, method="McCamy 1992"))
        method = "mccamy1992"
    uv = colour.xy_to_UCS_uv(xy)
    duv = float(colour.uv_to_CCT(uv, method="Ohno 2013")[1])
    return min(MAX_CCT_K, max(MIN_CCT_K, kelvin)), duv, method


def decide_white_balance(frames: list[FrameIlluminant]) -> Decision | None:
    """Combine per-frame estimates into one shot decision; None when no frame was usable."""
    if not frames:
        return None
    gray_world = _chroma(np.mean([f.gray_world for f in frames], axis=0))
    patches = [f.white_patch for f in frames if f.white_patch is not None]
    neutral = float(np.mean([f.neutral_fraction for f in frames]))
    xy = rgb_to_xy(gray_world)
    kelvin, duv, cct_method = cct_and_duv(xy)

    evidence = Evidence()
    evidence.add("method:gray_world_near_neutral")
    evidence.add(f"cct:{cct_method}")
    evidence.add(f"near_neutral={neutral * 100:.0f}%")
    # Gray-world holds when much of the frame is near-neutral; a white patch that agrees is a second
    # independent witness. Neither is strong on scenes dominated by one saturated colour.
    confidence = 0.3 + 0.35 * clamp01(neutral / 0.5)
    if patches:
        patch = _chroma(np.mean(patches, axis=0))
        disagreement = float(np.hypot(*(rgb_to_xy(patch) - xy)))
        evidence.measure("white_patch_xy_distance", disagreement, 4)
        confidence += 0.15 * clamp01(1.0 - disagreement / 0.03)
    if abs(duv) > 0.02:
        evidence.add("off_planckian_locus")  # CCT means little this far from the locus
        confidence *= 0.6
    if kelvin in (MIN_CCT_K, MAX_CCT_K):
        evidence.add("cct_clamped")
        confidence *= 0.6
    return Decision(
        value={
            "kelvin": round(kelvin),
            "tint": rounded(duv, 5),
            "x": rounded(xy[0]),
            "y": rounded(xy[1]),
            "method": f"gray_world_near_neutral+{cct_method}",
        },
        confidence=round(min(0.8, confidence), 3),
        reasons=evidence.tags,
        model=MODEL,
    )
