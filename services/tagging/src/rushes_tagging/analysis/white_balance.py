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
from types import ModuleType

import cv2
import numpy as np

from .config import AnalysisConfig
from .decision import Decision, Evidence, clamp01, rounded

MODEL = "rushes.white_balance"
RGB_TO_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], dtype=np.float64
)
_codes = np.arange(256, dtype=np.float64) / 255.0
SRGB_TO_LINEAR = np.where(_codes <= 0.04045, _codes / 12.92, ((_codes + 0.055) / 1.055) ** 2.4).astype(
    np.float32
)
"""8-bit sRGB code value -> linear light (the inverse of the sRGB transfer function)."""
PIXEL_STRIDE = 3  # every 3rd row and column: the estimate is a mean; 1/9 of the pixels is plenty
MIN_LINEAR = 0.01  # darker pixels are mostly noise and quantisation
MIN_CCT_K, MAX_CCT_K = 1500.0, 25000.0


def _colour() -> ModuleType:
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
    """None when the frame has too few usable pixels (black, clipped, or a few saturated colours).

    Channels are kept as separate 1-D arrays: numpy reductions over a length-3 axis are slow."""
    codes = np.ascontiguousarray(frame_bgr[::PIXEL_STRIDE, ::PIXEL_STRIDE])
    linear = cv2.LUT(codes, SRGB_TO_LINEAR).reshape(-1, 3)
    brightest_code = codes.max(axis=2).ravel()
    b, g, r = linear[:, 0], linear[:, 1], linear[:, 2]
    brightness = np.maximum(np.maximum(r, g), b)
    usable = (brightest_code < config.clip_level) & (brightness > MIN_LINEAR)
    count = int(np.count_nonzero(usable))
    if count < 64:
        return None
    r, g, b, brightness = r[usable], g[usable], b[usable], brightness[usable]
    total = np.maximum(r + g + b, 1e-9)
    chroma_r, chroma_b = r / total, b / total

    def mean_chroma(mask: np.ndarray | None) -> np.ndarray:
        rgb = (
            np.array([r.mean(), g.mean(), b.mean()])
            if mask is None
            else np.array([r[mask].mean(), g[mask].mean(), b[mask].mean()])
        )
        return rgb / max(float(rgb.sum()), 1e-9)

    estimate = mean_chroma(None)
    near = np.ones(count, dtype=bool)
    for _ in range(2):
        near = np.hypot(chroma_r - estimate[0], chroma_b - estimate[2]) < config.neutral_chroma_tolerance
        if np.count_nonzero(near) < 32:
            break
        estimate = mean_chroma(near)
    kth = int(count * 0.98)
    top = brightness >= np.partition(brightness, kth)[kth]
    white_patch = mean_chroma(top) if np.count_nonzero(top) >= 8 else None
    return FrameIlluminant(
        gray_world=estimate,
        white_patch=white_patch,
        neutral_fraction=float(np.count_nonzero(near)) / count,
        usable_fraction=count / len(usable),
    )


def warm_up() -> None:
    """Import colour-science and build its CCT tables now (about 0.3 s, once per process), so the
    first shot of a job is not the one that pays for it."""
    cct_and_duv(np.array([0.3127, 0.3290]))


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


def decide_white_balance(frames: list[FrameIlluminant]) -> Decision:
    """Combine per-frame estimates into one shot decision (value None when no frame was usable)."""
    if not frames:
        return Decision(value=None, confidence=0.0, reasons=["no_usable_pixels"], model=MODEL)
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
