"""Picture readings against generated frames of known truth: exposure, white balance, focus,
noise, dominant colours and mood."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from rushes_tagging.analysis import AnalysisConfig
from rushes_tagging.analysis import synthetic as synth
from rushes_tagging.analysis.noise import noise_sigma
from rushes_tagging.analysis.white_balance import decide_white_balance, estimate_frame_illuminant

W, H = 480, 270
LUMA_NOISE_GAIN = float(np.sqrt(0.299**2 + 0.587**2 + 0.114**2))  # independent per-channel noise -> luma


def scene(seed: int = 1) -> np.ndarray:
    return synth.add_gaussian_noise(synth.textured_scene(W, H, seed=seed), 1.0, seed=seed)


def still_shot(frame: np.ndarray, count: int = 7) -> list[np.ndarray]:
    return [synth.add_gaussian_noise(frame, 0.8, seed=i) for i in range(count)]


def luma(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize(
    ("transform", "verdict"),
    [
        (lambda f: f, "ok"),
        (lambda f: (f.astype(np.float32) * 0.3).astype(np.uint8), "under"),
        (lambda f: np.clip(f.astype(np.float32) * 1.7 + 40, 0, 255).astype(np.uint8), "over"),
    ],
    ids=["normal", "under_exposed", "over_exposed"],
)
def test_exposure_verdict_and_measurements(transform: object, verdict: str) -> None:
    frame = transform(scene())  # type: ignore[operator]
    result = synth.analyse_frames(still_shot(frame))
    exposure = result.decisions["exposure"]
    assert exposure.value["verdict"] == verdict
    gray = luma(frame)
    # Tolerance: the frames carry a little extra noise; the mean is within half a code value.
    assert exposure.value["mean_luma"] == pytest.approx(gray.mean() / 255.0, abs=0.005)
    assert exposure.value["clipped_highlights_pct"] == pytest.approx((gray >= 250).mean() * 100, abs=1.0)
    assert exposure.value["crushed_blacks_pct"] == pytest.approx((gray <= 5).mean() * 100, abs=1.0)
    assert exposure.confidence >= 0.6
    assert exposure.model == "rushes.exposure" and exposure.model_version == "1.0.0"
    assert any(r.startswith("clipped_highlights=") for r in exposure.reasons)


def test_mostly_clipped_frame_is_over_even_with_a_moderate_mean() -> None:
    frame = scene()
    frame[:, : W // 5] = 255  # a blown-out window: 20% clipped
    exposure = synth.analyse_frames(still_shot(frame)).decisions["exposure"]
    assert exposure.value["verdict"] == "over"
    assert exposure.value["clipped_highlights_pct"] >= 15.0


@pytest.mark.parametrize("kelvin", [3200, 6500])
def test_white_balance_recovers_the_light_colour_temperature(kelvin: int) -> None:
    # A quarter of the frame is a saturated green wall: plain gray-world would be pulled off.
    frame = synth.add_gaussian_noise(synth.lit_gray_scene(kelvin, W, H, saturated_share=0.25), 1.0)
    decision = synth.analyse_frames(still_shot(frame, 4)).decisions["white_balance"]
    # Tolerance: +-10% of the true CCT; tint (Duv) near zero for a Planckian light.
    assert decision.value["kelvin"] == pytest.approx(kelvin, rel=0.10)
    assert abs(decision.value["tint"]) < 0.005
    assert decision.value["method"].startswith("gray_world_near_neutral+")
    assert 0.5 <= decision.confidence <= 0.8
    assert "method:gray_world_near_neutral" in decision.reasons


def test_white_balance_orders_warm_below_cool_and_uses_mccamy_below_3000k() -> None:
    config = AnalysisConfig()
    estimates = {}
    for kelvin in (2700, 4300, 9000):
        frame = synth.lit_gray_scene(kelvin, W, H, seed=3)
        estimates[kelvin] = decide_white_balance([estimate_frame_illuminant(frame, config)])  # type: ignore[list-item]
    assert estimates[2700].value["kelvin"] < estimates[4300].value["kelvin"] < estimates[9000].value["kelvin"]
    assert estimates[2700].value["method"].endswith("mccamy1992")
    assert estimates[9000].value["method"].endswith("hernandez1999")
    for kelvin, decision in estimates.items():
        assert decision.value["kelvin"] == pytest.approx(kelvin, rel=0.10)


def test_white_balance_confidence_drops_when_one_colour_dominates() -> None:
    config = AnalysisConfig()
    neutral = synth.lit_gray_scene(4300, W, H, saturated_share=0.0)
    dominated = synth.lit_gray_scene(4300, W, H, saturated_share=0.5)
    sure = decide_white_balance([estimate_frame_illuminant(neutral, config)])  # type: ignore[list-item]
    unsure = decide_white_balance([estimate_frame_illuminant(dominated, config)])  # type: ignore[list-item]
    assert unsure.confidence < 0.5 < sure.confidence


def test_white_balance_without_usable_pixels_says_so() -> None:
    decision = synth.analyse_frames([np.zeros((H, W, 3), np.uint8)] * 3).decisions["white_balance"]
    assert decision.value is None and decision.confidence == 0.0
    assert decision.reasons == ["no_usable_pixels"]


def test_sharp_scene_is_sharp_and_blurred_scene_is_soft() -> None:
    sharp_frame = scene(seed=2)
    sharp = synth.analyse_frames(still_shot(sharp_frame)).decisions["sharpness"]
    blurred = synth.analyse_frames(still_shot(synth.gaussian_blur(sharp_frame, 2.5))).decisions["sharpness"]
    slightly = synth.analyse_frames(still_shot(synth.gaussian_blur(sharp_frame, 1.0))).decisions["sharpness"]
    threshold = AnalysisConfig().soft_blur_threshold
    assert sharp.value["verdict"] == "sharp" and blurred.value["verdict"] == "soft"
    # Ordering holds across blur levels for both readings.
    assert sharp.value["score"] > slightly.value["score"] > blurred.value["score"]
    assert sharp.value["laplacian_var"] > slightly.value["laplacian_var"] > blurred.value["laplacian_var"]
    assert 1.0 - sharp.value["score"] < threshold < 1.0 - blurred.value["score"]
    assert sharp.confidence >= 0.7 and blurred.confidence >= 0.7


@pytest.mark.parametrize(("sigma", "flagged"), [(2.0, False), (6.0, True), (10.0, True)])
def test_noise_sigma_within_25_percent(sigma: float, flagged: bool) -> None:
    clean = synth.textured_scene(W, H, seed=4, detail=0.4)
    shot = [synth.add_gaussian_noise(clean, sigma, seed=i) for i in range(7)]
    result = synth.analyse_frames(shot)
    truth = sigma * LUMA_NOISE_GAIN  # noise added per channel shows in luma with this gain
    assert result.decisions["noise"].value["sigma"] == pytest.approx(truth, rel=0.25)
    flags = [f for f in result.flags if f.name == "needs_denoise"]
    assert bool(flags) is flagged  # the default threshold is 2.5 code values of luma noise
    assert result.decisions["noise"].value["verdict"] == ("noisy" if flagged else "clean")
    if flagged:
        assert flags[0].measured == pytest.approx(truth, rel=0.25)
        assert flags[0].threshold == AnalysisConfig().denoise_sigma


def test_clean_frames_are_clean_and_raise_no_denoise_flag() -> None:
    result = synth.analyse_frames([synth.textured_scene(W, H, seed=4, detail=0.4)] * 7)
    noise = result.decisions["noise"]
    assert noise.value["verdict"] == "clean" and noise.value["sigma"] < 1.0
    assert all(f.name != "needs_denoise" for f in result.flags)


def test_noise_estimator_ignores_edges_and_texture() -> None:
    # The same noise on a busy and on a quiet scene reads (almost) the same.
    config = AnalysisConfig()
    readings = []
    for detail in (0.0, 1.0):
        frame = synth.add_gaussian_noise(synth.textured_scene(W, H, seed=5, detail=detail), 5.0)
        readings.append(noise_sigma(luma(frame), config)[0])
    assert readings[0] == pytest.approx(readings[1], rel=0.1)
    assert readings[0] == pytest.approx(5.0 * LUMA_NOISE_GAIN, rel=0.15)


def hex_to_rgb(code: str) -> np.ndarray:
    return np.array([int(code[i : i + 2], 16) for i in (1, 3, 5)])


def test_dominant_colours_of_a_two_colour_frame() -> None:
    frame = np.empty((H, W, 3), np.uint8)
    split = int(W * 0.6)
    frame[:, :split] = (40, 40, 200)  # BGR red-ish: #c82828
    frame[:, split:] = (180, 90, 20)  # BGR blue-ish: #145ab4
    decision = synth.analyse_frames(still_shot(frame, 3)).decisions["dominant_colors"]
    colours = decision.value
    assert len(colours) == 2
    # Tolerance: +-6 per channel (noise and Lab round trip), +-0.03 on the fractions.
    assert np.abs(hex_to_rgb(colours[0]["hex"]) - np.array([200, 40, 40])).max() <= 6
    assert np.abs(hex_to_rgb(colours[1]["hex"]) - np.array([20, 90, 180])).max() <= 6
    assert colours[0]["fraction"] == pytest.approx(0.6, abs=0.03)
    assert colours[1]["fraction"] == pytest.approx(0.4, abs=0.03)
    assert decision.confidence >= 0.8


def test_dominant_colours_are_deterministic_and_bounded() -> None:
    shot = still_shot(scene(seed=6), 7)
    first = synth.analyse_frames(shot).decisions["dominant_colors"]
    second = synth.analyse_frames(shot).decisions["dominant_colors"]
    assert first.value == second.value
    assert 1 <= len(first.value) <= AnalysisConfig().dominant_colours
    assert sum(c["fraction"] for c in first.value) <= 1.0 + 1e-6
    assert first.confidence < 0.9  # a busy scene has no truly dominant colours


def test_mood_reads_warm_dark_low_key_and_bright_cool_high_key() -> None:
    warm_dark = (synth.lit_gray_scene(2800, W, H, seed=7).astype(np.float32) * 0.35).astype(np.uint8)
    mood = synth.analyse_frames(still_shot(warm_dark, 4)).decisions["mood"]
    assert "warm" in mood.value["moods"] and "dark" in mood.value["moods"]
    assert mood.value["lighting_key"] == "low_key" and mood.value["temperature"] == "warm"

    bright_cool = np.clip(
        synth.lit_gray_scene(11000, W, H, seed=7).astype(np.float32) * 0.6 + 110, 0, 255
    ).astype(np.uint8)
    mood = synth.analyse_frames(still_shot(bright_cool, 4)).decisions["mood"]
    assert "cool" in mood.value["moods"] and "bright" in mood.value["moods"]
    assert mood.value["lighting_key"] == "high_key"
    assert mood.confidence <= 0.6  # mood words are conventions, not measurements
