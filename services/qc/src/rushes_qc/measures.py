"""Per-frame measurements of a rendition against its aligned source (pure numpy/OpenCV).

Every function takes frames already aligned on the same grid (see align.py): luma as float32 in
code values 0..255, colour as uint8 BGR. Each returns plain floats so the analyzer can keep
per-frame series and the verdict can compare them with thresholds. Names say what failure mode a
measurement is for; the docstrings say why it is computed that way.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_SSIM_C1 = (0.01 * 255) ** 2
_SSIM_C2 = (0.03 * 255) ** 2
# Source gradient (Sobel magnitude, code values) above which a pixel is a "strong edge".
STRONG_EDGE = 60.0
# Above this it is graphics/title contrast (text, lower thirds, logos): where aliasing shows.
GRAPHICS_EDGE = 180.0
_MIN_MASK_PIXELS = 24


def ssim(source: np.ndarray, rendition: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean SSIM (Wang et al. 2004, Gaussian window sigma 1.5) and its map, on luma."""
    blur = _gauss(1.5)
    mu_s, mu_r = blur(source), blur(rendition)
    ss, rr, sr = mu_s * mu_s, mu_r * mu_r, mu_s * mu_r
    var_s = blur(source * source) - ss
    var_r = blur(rendition * rendition) - rr
    cov = blur(source * rendition) - sr
    ssim_map = ((2 * sr + _SSIM_C1) * (2 * cov + _SSIM_C2)) / (
        (ss + rr + _SSIM_C1) * (var_s + var_r + _SSIM_C2)
    )
    return float(ssim_map.mean()), ssim_map


def psnr_db(source: np.ndarray, rendition: np.ndarray, *, cap_db: float = 100.0) -> float:
    """Luma PSNR in dB, capped (identical frames would be infinite, which JSON cannot carry)."""
    mse = float(np.mean((source - rendition) ** 2))
    if mse <= 1e-10:
        return cap_db
    return min(cap_db, 10.0 * float(np.log10(255.0**2 / mse)))


def gradient_magnitude(luma: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(cv2.magnitude(gx, gy)) / 4.0  # Sobel's weights sum to 4: back to code values per px


@dataclass(frozen=True)
class EdgeMasks:
    """Where the source has strong edges (and a band around them), computed once per frame."""

    strong: np.ndarray  # bool: the edge pixels themselves
    band: np.ndarray  # bool: a few pixels either side, where halos and ringing live
    graphics: np.ndarray  # bool: very high contrast edges (titles, graphics)
    textured: np.ndarray  # bool: detail that is not an edge (skin, fabric, foliage)
    gradient: np.ndarray  # float32 source gradient magnitude


def edge_masks(source: np.ndarray) -> EdgeMasks:
    gradient = gradient_magnitude(source)
    strong = gradient > STRONG_EDGE
    band = cv2.dilate(strong.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    graphics_core = (gradient > GRAPHICS_EDGE).astype(np.uint8)
    graphics = cv2.dilate(graphics_core, np.ones((3, 3), np.uint8)).astype(bool)
    textured = (gradient > 6.0) & ~band
    return EdgeMasks(strong=strong, band=band, graphics=graphics, textured=textured, gradient=gradient)


def halo_overshoot(source: np.ndarray, rendition: np.ndarray, masks: EdgeMasks) -> float:
    """Mean overshoot (code values) of the rendition beyond the source's local range near strong edges.

    Over-sharpening draws a bright rim on the light side of an edge and a dark one on the other:
    values outside [local min, local max] of the source around that edge. Measured only in the
    band around strong edges so that noise in flat areas does not count; the source's own local
    extremes (its noise included) set the range, so a denoised rendition does not score.
    """
    if int(masks.band.sum()) < _MIN_MASK_PIXELS:
        return 0.0
    kernel = np.ones((5, 5), np.uint8)
    local_max = cv2.dilate(source, kernel)
    local_min = cv2.erode(source, kernel)
    over = np.maximum(rendition - local_max, 0.0) + np.maximum(local_min - rendition, 0.0)
    return float(over[masks.band].mean())


def band_energies(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fine (< ~1 px) and mid (~1-3 px) detail bands: Laplacian-pyramid style differences of blurs."""
    blur1 = cv2.GaussianBlur(luma, (0, 0), 1.0)
    blur3 = cv2.GaussianBlur(blur1, (0, 0), 2.8)  # sigma 1 then 2.8: about sigma 3 in all
    fine = luma - blur1
    mid = blur1 - blur3
    return fine * fine, mid * mid


def energy_ratio(source_energy: np.ndarray, rendition_energy: np.ndarray, mask: np.ndarray) -> float | None:
    """Rendition/source energy inside `mask`; None when the source has no such detail there."""
    if int(mask.sum()) < _MIN_MASK_PIXELS:
        return None
    source_total = float(source_energy[mask].sum())
    if source_total <= 1e-3 * mask.sum():
        return None
    return float(rendition_energy[mask].sum()) / source_total


def edge_sharpness(source_gradient: np.ndarray, rendition: np.ndarray, strong: np.ndarray) -> float | None:
    """Rendition/source gradient at the source's strong edges: below 1 is smearing or blur."""
    if int(strong.sum()) < _MIN_MASK_PIXELS:
        return None
    rendition_gradient = gradient_magnitude(rendition)
    return float(rendition_gradient[strong].mean() / max(float(source_gradient[strong].mean()), 1e-6))


def block_means(luma: np.ndarray, grid: int = 4) -> np.ndarray:
    """Mean luma of a grid x grid split of the frame: flicker can be local (a patch pumping)."""
    return np.asarray(cv2.resize(luma, (grid, grid), interpolation=cv2.INTER_AREA), np.float32).reshape(-1)


def ghosting_weight(previous_source: np.ndarray, source: np.ndarray, rendition: np.ndarray) -> float | None:
    """How much of the previous frame is blended into the rendition where the picture moved.

    Motion interpolation and temporal denoise that fail leave r = (1 - a) s_t + a s_(t-1): the
    least-squares `a` of (r - s_t) on (s_(t-1) - s_t), over pixels that changed between frames.
    0 for a clean fix, ~0.3-0.5 for a visible ghost. None when too little moved to tell.
    """
    change = previous_source - source
    moving = np.abs(change) > 12.0
    if int(moving.sum()) < 4 * _MIN_MASK_PIXELS:
        return None
    d = change[moving]
    e = (rendition - source)[moving]
    return float(np.dot(e, d) / max(float(np.dot(d, d)), 1e-6))


def global_shift(reference: np.ndarray, moved: np.ndarray) -> tuple[float, float, float]:
    """(dx, dy, response) of `moved` relative to `reference` by phase correlation (sub-pixel)."""
    window = _hann(reference.shape)
    # OpenCV 4.11 applies the window to its inputs in place: hand it copies.
    (dx, dy), response = cv2.phaseCorrelate(reference.copy(), moved.copy(), window)
    return float(dx), float(dy), float(response)


def shift_image(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    matrix = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    return np.asarray(
        cv2.warpAffine(
            image,
            matrix,
            (image.shape[1], image.shape[0]),
            flags=cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REFLECT,
        )
    )


def checkerboard_peak(residual: np.ndarray, periods: tuple[int, ...]) -> tuple[float, float]:
    """(peak ratio, amplitude in code values) of periodic patterns in a residual tile.

    Transposed convolutions with a stride (learned upscalers) leave a pattern repeating every
    `stride` pixels: sharp spectral peaks at N/stride on the axes and diagonals of the rendition
    minus its bicubic reference, where a good upscaler's residual is broadband. Ratio = the
    strongest candidate bin over the median of the high-frequency spectrum.
    """
    n = residual.shape[0]
    window = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    spectrum = np.abs(np.fft.fft2((residual - residual.mean()) * window))
    fy, fx = np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij")
    high = np.hypot(fx, fy) > 0.125
    baseline = float(np.median(spectrum[high])) + 1e-6
    best = 0.0
    for period in periods:
        k = n // period
        for ky, kx in ((0, k), (k, 0), (k, k)):
            rows = [(ky + d) % n for d in (-1, 0, 1)]
            cols = [(kx + d) % n for d in (-1, 0, 1)]
            best = max(best, float(spectrum[np.ix_(rows, cols)].max()))
    amplitude = 2.0 * best / float(window.sum())
    return best / baseline, amplitude


def mean_lab(bgr_small: np.ndarray) -> np.ndarray:
    return np.asarray(bgr_to_lab(bgr_small).reshape(-1, 3).mean(axis=0))


def bgr_to_lab(bgr: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65, L in 0..100) from 8-bit BGR."""
    return np.asarray(cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab))


def colour_bleed(source_lab: np.ndarray, rendition_lab: np.ndarray) -> float | None:
    """Chroma error at the source's chroma edges beyond the chroma error in flat chroma areas.

    Colour bleeding (chroma smeared over an edge, chroma upsampled without the luma's guide)
    shows as a/b differences concentrated where the source's colour changes; a global cast or
    codec noise raises both terms alike and cancels out.
    """
    chroma_s = source_lab[..., 1:]
    chroma_r = rendition_lab[..., 1:]
    ga = gradient_magnitude(np.ascontiguousarray(chroma_s[..., 0]))
    gb = gradient_magnitude(np.ascontiguousarray(chroma_s[..., 1]))
    chroma_edges = np.hypot(ga, gb) > 4.0
    near = cv2.dilate(chroma_edges.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    flat = ~cv2.dilate(chroma_edges.astype(np.uint8), np.ones((11, 11), np.uint8)).astype(bool)
    if int(near.sum()) < _MIN_MASK_PIXELS or int(flat.sum()) < _MIN_MASK_PIXELS:
        return None
    error = np.linalg.norm(chroma_r - chroma_s, axis=-1)
    return float(error[near].mean() - error[flat].mean())


def _gauss(sigma: float):  # type: ignore[no-untyped-def]
    def blur(image: np.ndarray) -> np.ndarray:
        return np.asarray(cv2.GaussianBlur(image, (11, 11), sigma))

    return blur


_HANN_CACHE: dict[tuple[int, ...], np.ndarray] = {}


def _hann(shape: tuple[int, ...]) -> np.ndarray:
    if shape not in _HANN_CACHE:
        _HANN_CACHE[shape] = cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)
    return _HANN_CACHE[shape]
