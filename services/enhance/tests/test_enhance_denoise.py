"""Denoising: the noise measure is right, sigma drops, edges stay, shots and coverage are respected."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from enhance_media import noisy_frames, textured_scene, write_bgr_clip
from rushes_config import MediaLimits
from rushes_enhance import denoise
from rushes_enhance.renderer import render
from rushes_enhance.settings import EnhanceSettings
from rushes_enhance.shots import ShotPlan
from rushes_enhance.video import read_frames

W, H, N, SIGMA = 160, 96, 12, 10.0
# Independent noise of sigma per BGR channel is sigma * LUMA in luma (what enhance and tagging measure).
LUMA = float(np.sqrt(0.299**2 + 0.587**2 + 0.114**2))


def luma_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """On luma: the test clip is 4:2:0, whose chroma loss would swamp the noise in a BGR PSNR."""
    return float(cv2.PSNR(cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)))


def edge_strength(bgr: np.ndarray, edges: np.ndarray) -> float:
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    magnitude = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    return float(magnitude[edges].mean())


@pytest.mark.parametrize("sigma", [3.0, 8.0, 15.0])
def test_noise_estimate_matches_added_noise(sigma: float) -> None:
    clean = textured_scene(320, 240, seed=4)
    noisy = next(noisy_frames(clean, 1, sigma))
    assert denoise.estimate_noise_sigma(noisy) == pytest.approx(sigma * LUMA, rel=0.2)
    assert denoise.estimate_noise_sigma(clean) < 1.5


def test_strength_follows_the_measured_noise() -> None:
    weak = denoise.DenoiseStrength.from_sigma(2.0, 2)
    strong = denoise.DenoiseStrength.from_sigma(12.0, 2)
    assert strong.spatial_h > weak.spatial_h >= denoise.MIN_SPATIAL_H


def test_denoised_rendition_lowers_sigma_and_keeps_edges(tmp_path: Path) -> None:
    clean = textured_scene(W, H, seed=5)
    clip = write_bgr_clip(
        tmp_path / "noisy.mp4", noisy_frames(clean, N, SIGMA), width=W, height=H, lossless=True
    )
    out = tmp_path / "denoised.mp4"
    result = render("denoise", clip, out, ShotPlan([]), EnhanceSettings(), MediaLimits())
    m = result.measurements
    assert m["noise_sigma_before"] == pytest.approx(SIGMA * LUMA, rel=0.25), m
    assert m["noise_sigma_after"] < 0.4 * m["noise_sigma_before"], m
    assert result.parameters["noise_sigma"] == pytest.approx(m["noise_sigma_before"], abs=1e-3)
    edges = cv2.Canny(clean, 100, 200) > 0
    frames = [f.bgr for f in read_frames(out, MediaLimits(), max_frames=100)]
    assert len(frames) == N
    middle = frames[N // 2]
    # Closer to the clean picture than the noisy input was, with edges kept at >= 85 % strength.
    noisy_mid = [f.bgr for f in read_frames(clip, MediaLimits(), max_frames=100)][N // 2]
    assert luma_psnr(middle, clean) > luma_psnr(noisy_mid, clean) + 4
    assert edge_strength(middle, edges) > 0.85 * edge_strength(clean, edges)


def test_stream_keeps_order_and_never_mixes_shots() -> None:
    black, white = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 200, np.uint8)
    items = [(i, black if i < 3 else white, True, i in (0, 3)) for i in range(6)]
    out = list(denoise.denoise_stream(items, denoise.DenoiseStrength(sigma=50.0, radius=2, spatial_h=1.0)))
    assert [payload for payload, _ in out] == list(range(6))
    assert all(int(frame.max()) == 0 for _, frame in out[:3])  # no white leaked across the cut
    assert all(abs(int(frame.mean()) - 200) <= 1 for _, frame in out[3:])


def test_uncovered_frames_pass_through_untouched() -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (8, 8, 3), dtype=np.uint8) for _ in range(4)]
    items = [(i, f, i >= 2, i == 0) for i, f in enumerate(frames)]
    out = dict(denoise.denoise_stream(items, denoise.DenoiseStrength(sigma=10.0, radius=1, spatial_h=5.0)))
    assert out[0] is frames[0] and out[1] is frames[1]
    assert not np.array_equal(out[2], frames[2])
