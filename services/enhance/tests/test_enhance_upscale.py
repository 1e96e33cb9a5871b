"""Upscale rendering: the classical fallback (announced), the learned path through any frame call,
and the size limits refused before any work."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from enhance_media import textured_scene, write_bgr_clip
from rushes_config import MediaLimits
from rushes_enhance import upscale
from rushes_enhance.fixes import EnhanceRequestError
from rushes_enhance.renderer import LearnedUpscaler, render
from rushes_enhance.settings import EnhanceSettings
from rushes_enhance.shots import ShotPlan, ShotSpan
from rushes_enhance.video import read_frames, source_info

W, H, N = 96, 64, 6


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frames = (textured_scene(W, H, seed=i // 3) for i in range(N))
    return write_bgr_clip(tmp_path_factory.mktemp("up") / "small.mp4", frames, width=W, height=H)


def test_classical_upscale_is_sharper_than_plain_lanczos() -> None:
    truth = textured_scene(2 * W, 2 * H, seed=9)
    small = cv2.resize(truth, (W, H), interpolation=cv2.INTER_AREA)
    sharp, plain = upscale.classical_upscale(small, 2), upscale.plain_resize(small, 2)
    assert sharp.shape == truth.shape
    laplacian = lambda img: cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_32F).var()  # noqa: E731
    assert laplacian(sharp) > 1.2 * laplacian(plain)
    assert cv2.PSNR(sharp, truth) > 20


def test_fallback_is_announced_when_the_model_is_unavailable(small_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "up.mp4"
    result = render("upscale", small_clip, out, ShotPlan([]), EnhanceSettings(), MediaLimits(),
                    learned=None, fallback_reason="model 'upscaler' not ready after 30 s")  # fmt: skip
    assert result.model_name == upscale.CLASSICAL_MODEL
    assert result.reasons == ["classical_fallback: model 'upscaler' not ready after 30 s"]
    assert result.parameters["method"] == "classical" and result.scale == 2.0
    info = source_info(out, MediaLimits())
    assert (info.width, info.height) == (2 * W, 2 * H) and result.frames == N


def test_learned_path_uses_the_frame_call_only_on_covered_shots(small_clip: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []

    def fake_model(bgr: np.ndarray) -> np.ndarray:
        calls.append(bgr.shape[:2])
        return np.full((bgr.shape[0] * 2, bgr.shape[1] * 2, 3), 255, np.uint8)

    learned = LearnedUpscaler(fake_model, "upscaler", "v-test", max_pixels=W * H)
    plan = ShotPlan([ShotSpan(0, 0.0, 0.12), ShotSpan(1, 0.12, 1.0)], [1])
    result = render(
        "upscale", small_clip, tmp_path / "l.mp4", plan, EnhanceSettings(), MediaLimits(), learned=learned
    )
    assert (result.model_name, result.model_version) == ("upscaler", "v-test")
    assert result.reasons == ["learned_super_resolution"] and len(calls) == 3
    frames = [f.bgr for f in read_frames(tmp_path / "l.mp4", MediaLimits(), max_frames=10)]
    assert frames[0].mean() < 240 < frames[-1].mean()  # shot 0 plain-resized, shot 1 from the model


def test_frames_over_the_model_cap_use_the_classical_path_and_say_so(
    small_clip: Path, tmp_path: Path
) -> None:
    learned = LearnedUpscaler(lambda f: f, "upscaler", "v", max_pixels=W * H - 1)
    result = render("upscale", small_clip, tmp_path / "c.mp4", ShotPlan([]), EnhanceSettings(), MediaLimits(),
                    learned=learned)  # fmt: skip
    assert result.model_name == upscale.CLASSICAL_MODEL
    assert "over the learned model's cap" in result.reasons[0]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_output_pixels": W * H * 4 - 1}, "over the .*-pixel limit"),
        ({"max_source_pixels": W * H - 1}, "enhance accepts at most"),
        ({"max_frames": N - 1}, f"source has {N} frames"),
    ],
)
def test_oversized_requests_are_refused(
    small_clip: Path, tmp_path: Path, overrides: dict[str, int], message: str
) -> None:
    settings = EnhanceSettings(**overrides)
    with pytest.raises(EnhanceRequestError, match=message):
        render("upscale", small_clip, tmp_path / "x.mp4", ShotPlan([]), settings, MediaLimits())
    assert not (tmp_path / "x.mp4").exists()
