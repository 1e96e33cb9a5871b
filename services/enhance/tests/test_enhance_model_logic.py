"""models/upscaler/1/upscale_logic.py outside Triton: the network from the bundled ncnn weights."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

LOGIC = Path(__file__).resolve().parents[3] / "models" / "upscaler" / "1" / "upscale_logic.py"


@pytest.fixture(scope="module")
def logic() -> ModuleType:
    name = "rushes_model_upscaler_logic"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, LOGIC)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def upscaler(logic: ModuleType) -> object:
    return logic.Upscaler(logic.resolve_settings({}, {}))


def cartoon_scene() -> np.ndarray:
    """Flat colours, hard edges and text: the animevideov3 weights' own domain (on fine natural
    texture they flatten detail and lose to bicubic in PSNR, as GAN-trained models do)."""
    image = np.zeros((180, 320, 3), np.uint8)
    image[:] = np.linspace(40, 200, 320)[None, :, None].astype(np.uint8)
    cv2.circle(image, (100, 90), 50, (20, 180, 240), -1)
    cv2.rectangle(image, (200, 30), (290, 150), (250, 250, 250), 3)
    cv2.putText(image, "Rushes 42", (10, 170), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2, cv2.LINE_AA)
    return image


def test_learned_upscale_beats_bicubic_on_a_downscaled_picture(upscaler: object) -> None:
    truth = cartoon_scene()
    small = cv2.resize(truth, (160, 90), interpolation=cv2.INTER_AREA)
    out = upscaler.upscale(np.ascontiguousarray(small[..., ::-1]))  # type: ignore[attr-defined]
    assert out.shape == (180, 320, 3) and out.dtype == np.uint8
    bicubic = cv2.resize(small, (320, 180), interpolation=cv2.INTER_CUBIC)
    # Wrongly parsed weights give garbage (PSNR far below 20 dB); the real network beats bicubic.
    assert cv2.PSNR(np.ascontiguousarray(out[..., ::-1]), truth) > cv2.PSNR(bicubic, truth)


def test_version_names_weights_hash_and_runtime(upscaler: object) -> None:
    version = upscaler.model_version  # type: ignore[attr-defined]
    assert version.startswith("realesr-animevideov3-x2@sha256:") and "+numpy-" in version


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (None, "missing input tensor 'IMAGE'"),
        (np.zeros((8, 8, 3), np.float32), "must be UINT8"),
        (np.zeros((8, 8), np.uint8), r"got uint8 \[8, 8\]"),
        (np.zeros((2, 8, 3), np.uint8), "at least 4 pixels"),
        (np.zeros((481, 480, 3), np.uint8), "accepts at most 230400"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(
    logic: ModuleType, upscaler: object, image: object, message: str
) -> None:
    with pytest.raises(logic.InvalidRequest, match=message):
        upscaler.upscale(image)  # type: ignore[attr-defined]


def test_weights_that_are_not_this_network_are_refused_at_load(logic: ModuleType, tmp_path: Path) -> None:
    bundled = logic.bundled_weights_dir()
    (tmp_path / "cut.param").write_text((bundled / "realesr-animevideov3-x2.param").read_text())
    (tmp_path / "cut.bin").write_bytes((bundled / "realesr-animevideov3-x2.bin").read_bytes()[:-100])
    settings = logic.resolve_settings({"weights": "cut", "weights_dir": str(tmp_path)}, {})
    with pytest.raises(logic.WeightsError, match="ends early"):
        logic.Upscaler(settings)
    with pytest.raises(logic.WeightsError, match="not found"):
        logic.Upscaler(logic.resolve_settings({"weights": "absent", "weights_dir": str(tmp_path)}, {}))
    with pytest.raises(logic.WeightsError, match="max_input_pixels must be an integer"):
        logic.resolve_settings({}, {"RUSHES_UPSCALER_MAX_INPUT_PIXELS": "lots"})
