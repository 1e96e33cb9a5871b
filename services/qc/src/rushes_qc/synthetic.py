"""Synthetic footage and the failures AI fixes typically make, injected at known frames.

The QC detectors are proven on these pairs (tests/test_qc_detectors.py) and the benchmark
(bench/qc.py) measures detection rates and throughput on them. Frames are RGB uint8, so they can
go straight to rushes_testing.media_builders.write_video. Every builder is deterministic per seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

Frames = list[np.ndarray]


@dataclass(frozen=True)
class SceneSpec:
    width: int = 320
    height: int = 192
    frames: int = 40
    pan_px_per_frame: float = 0.6
    shake_px: float = 0.0  # camera shake of the source itself (what stabilization removes)
    noise_sigma: float = 0.0  # sensor noise of the source (what denoise removes)
    seed: int = 0


def scene(spec: SceneSpec = SceneSpec()) -> Frames:
    """A panning shot over texture, coloured shapes and a title, with a ball crossing it."""
    rng = np.random.default_rng(spec.seed)
    margin = 48
    canvas_w = spec.width + 2 * margin + int(spec.pan_px_per_frame * spec.frames) + 8
    canvas_h = spec.height + 2 * margin
    canvas = _backdrop(canvas_w, canvas_h, rng)
    frames: Frames = []
    shakes = (
        rng.normal(0.0, spec.shake_px, size=(spec.frames, 2)) if spec.shake_px else np.zeros((spec.frames, 2))
    )
    for index in range(spec.frames):
        x = margin + index * spec.pan_px_per_frame
        matrix = np.array([[1, 0, -x], [0, 1, -margin]], dtype=np.float32)
        frame = cv2.warpAffine(
            canvas, matrix, (spec.width, spec.height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
        )
        ball_x = int(20 + index * 5) % (spec.width - 20)
        cv2.circle(frame, (ball_x, spec.height // 3), 14, (250, 220, 40), -1, cv2.LINE_AA)
        _title(frame)
        if spec.shake_px:  # the camera shakes: everything in the picture moves together
            shake = np.array([[1, 0, shakes[index, 0]], [0, 1, shakes[index, 1]]], dtype=np.float32)
            frame = cv2.warpAffine(
                frame, shake, (spec.width, spec.height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
            )
        if spec.noise_sigma:
            noisy = frame.astype(np.float32) + rng.normal(0.0, spec.noise_sigma, frame.shape)
            frame = np.clip(noisy, 0, 255).astype(np.uint8)
        frames.append(frame)
    return frames


def _backdrop(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.dstack([90 + 60 * xs / width, 110 + 40 * ys / height, 130 - 50 * xs / width])
    texture = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.2)
    texture = texture * np.float32(22.0 / max(float(texture.std()), 1e-6))
    image = base + texture[..., None]
    for _ in range(7):
        colour = rng.integers(20, 236, 3).tolist()
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        if rng.random() < 0.5:
            cv2.rectangle(
                image, (cx, cy), (cx + int(rng.integers(30, 90)), cy + int(rng.integers(20, 60))), colour, -1
            )
        else:
            cv2.circle(image, (cx, cy), int(rng.integers(12, 40)), colour, -1, cv2.LINE_AA)
    # A red/blue boundary: where chroma bleeding shows.
    image[height // 2 :, : width // 3] = (200, 30, 40)
    image[height // 2 :, width // 3 : width // 3 + 40] = (30, 40, 200)
    return np.clip(image, 0, 255).astype(np.uint8)


def _title(frame: np.ndarray) -> None:
    height = frame.shape[0]
    origin = (12, height - 14)
    cv2.putText(frame, "RUSHES 07", origin, cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 5, cv2.LINE_AA)
    cv2.putText(frame, "RUSHES 07", origin, cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2, cv2.LINE_AA)


# ---- failures -------------------------------------------------------------------------------

FrameRange = tuple[int, int]


def _in(index: int, frames: FrameRange | None) -> bool:
    return frames is None or frames[0] <= index < frames[1]


def flicker(frames: Frames, *, amplitude: float = 9.0, at: FrameRange | None = None) -> Frames:
    """Luma pumping: alternate frames brighter/darker by `amplitude` code values."""
    out = []
    for i, f in enumerate(frames):
        delta = amplitude * (1 if i % 2 else -1) if _in(i, at) else 0.0
        out.append(np.clip(f.astype(np.float32) + delta, 0, 255).astype(np.uint8))
    return out


def halo(frames: Frames, *, amount: float = 2.5, sigma: float = 1.5, at: FrameRange | None = None) -> Frames:
    """Over-sharpening: an unsharp mask strong enough to overshoot at edges."""
    out = []
    for i, f in enumerate(frames):
        if not _in(i, at):
            out.append(f)
            continue
        blurred = cv2.GaussianBlur(f.astype(np.float32), (0, 0), sigma)
        out.append(np.clip(f + amount * (f - blurred), 0, 255).astype(np.uint8))
    return out


def over_denoise(frames: Frames, *, sigma: float = 1.8, at: FrameRange | None = None) -> Frames:
    """Texture erosion: a denoiser that smooths detail away (blur as its limit)."""
    return [cv2.GaussianBlur(f, (0, 0), sigma) if _in(i, at) else f for i, f in enumerate(frames)]


def colour_drift(frames: Frames, *, max_shift: float = 16.0, at: FrameRange | None = None) -> Frames:
    """A white balance that wanders: red down, blue up, growing over the shot."""
    out = []
    count = max(1, len(frames) - 1)
    for i, f in enumerate(frames):
        k = max_shift * i / count if _in(i, at) else 0.0
        shifted = f.astype(np.float32) + np.array([-k, 0.0, k], dtype=np.float32)
        out.append(np.clip(shifted, 0, 255).astype(np.uint8))
    return out


def jitter(frames: Frames, *, amplitude: float = 2.5, seed: int = 1, at: FrameRange | None = None) -> Frames:
    """Shake added by a fix (or left by a stabilizer): a random translation per frame."""
    rng = np.random.default_rng(seed)
    out = []
    for i, f in enumerate(frames):
        dx, dy = rng.normal(0.0, amplitude, 2) if _in(i, at) else (0.0, 0.0)
        matrix = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
        out.append(
            cv2.warpAffine(
                f, matrix, (f.shape[1], f.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
        )
    return out


def ghosting(frames: Frames, *, weight: float = 0.4, at: FrameRange | None = None) -> Frames:
    """Failed motion interpolation: each frame blended with the previous one."""
    out = [frames[0]]
    for i in range(1, len(frames)):
        if _in(i, at):
            blend = (1 - weight) * frames[i].astype(np.float32) + weight * frames[i - 1].astype(np.float32)
            out.append(np.clip(blend, 0, 255).astype(np.uint8))
        else:
            out.append(frames[i])
    return out


def colour_bleed(frames: Frames, *, sigma: float = 4.0, at: FrameRange | None = None) -> Frames:
    """Chroma smeared across edges (luma kept): chroma blurred in YCrCb."""
    out = []
    for i, f in enumerate(frames):
        if not _in(i, at):
            out.append(f)
            continue
        ycc = cv2.cvtColor(f, cv2.COLOR_RGB2YCrCb)
        ycc[..., 1] = cv2.GaussianBlur(ycc[..., 1], (0, 0), sigma)
        ycc[..., 2] = cv2.GaussianBlur(ycc[..., 2], (0, 0), sigma)
        out.append(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB))
    return out


def upscale(frames: Frames, factor: int = 2) -> Frames:
    """A clean upscale (Lanczos): what a decent upscaler's output looks like to QC."""
    return [
        cv2.resize(f, (f.shape[1] * factor, f.shape[0] * factor), interpolation=cv2.INTER_LANCZOS4)
        for f in frames
    ]


def checkerboard(frames: Frames, *, amplitude: float = 5.0, period: int = 2) -> Frames:
    """The stride pattern of a transposed convolution, stronger where the picture has detail."""
    out = []
    for f in frames:
        h, w = f.shape[:2]
        ys, xs = np.mgrid[0:h, 0:w]
        pattern = np.where(((xs // (period // 2 or 1)) + (ys // (period // 2 or 1))) % 2 == 0, 1.0, -1.0)
        out.append(np.clip(f.astype(np.float32) + amplitude * pattern[..., None], 0, 255).astype(np.uint8))
    return out


def nearest_upscale(frames: Frames, factor: int = 2) -> Frames:
    """Pixel replication: stair-stepped titles and edges (aliasing around graphics)."""
    return [
        cv2.resize(f, (f.shape[1] * factor, f.shape[0] * factor), interpolation=cv2.INTER_NEAREST)
        for f in frames
    ]


def stabilize_perfectly(shaky: SceneSpec) -> Frames:
    """What an ideal stabilizer would output for scene(shaky): the same shot without the shake."""
    return scene(SceneSpec(**{**shaky.__dict__, "shake_px": 0.0}))


@dataclass(frozen=True)
class InjectedCase:
    """One generated pair: which fix it stands for, the artefact (None: clean) and the metric that
    must catch it."""

    name: str
    fix: str
    artefact: str | None
    expect_metric: str | None
    make: Callable[[int], tuple[Frames, Frames]]
    scale: float = 1.0


def _plain(seed: int) -> Frames:
    return scene(SceneSpec(seed=seed))


def cases() -> list[InjectedCase]:
    """The generated evaluation set: one injected failure per detector, and clean fixes."""

    def same(fn: Callable[[Frames], Frames]) -> Callable[[int], tuple[Frames, Frames]]:
        def make(seed: int) -> tuple[Frames, Frames]:
            source = _plain(seed)
            return source, fn(source)

        return make

    def shaky(seed: int) -> tuple[Frames, Frames]:
        spec = SceneSpec(seed=seed, shake_px=2.0)
        return scene(spec), scene(spec)  # a "stabilized" rendition that removed nothing

    def stabilized(seed: int) -> tuple[Frames, Frames]:
        spec = SceneSpec(seed=seed, shake_px=2.0)
        return scene(spec), stabilize_perfectly(spec)

    def noisy(seed: int) -> tuple[Frames, Frames]:
        spec = SceneSpec(seed=seed, noise_sigma=6.0)
        clean = scene(SceneSpec(seed=seed))
        return scene(spec), clean  # an ideal denoiser returns the noise-free picture

    def noisy_eroded(seed: int) -> tuple[Frames, Frames]:
        spec = SceneSpec(seed=seed, noise_sigma=6.0)
        return scene(spec), over_denoise(scene(SceneSpec(seed=seed)), sigma=2.2)

    def up(fn: Callable[[Frames], Frames]) -> Callable[[int], tuple[Frames, Frames]]:
        def make(seed: int) -> tuple[Frames, Frames]:
            source = scene(SceneSpec(seed=seed, width=192, height=112))
            return source, fn(source)

        return make

    return [
        InjectedCase("clean_copy", "generic", None, None, same(lambda f: list(f))),
        InjectedCase("flicker", "generic", "flicker", "flicker_excess", same(flicker)),
        InjectedCase("halo", "generic", "halo", "halo_overshoot", same(halo)),
        InjectedCase("over_denoise", "denoise", "over_denoise", "texture_retention", noisy_eroded),
        InjectedCase("blur", "generic", "blur", "texture_retention", same(over_denoise)),
        InjectedCase("colour_drift", "generic", "colour_drift", "colour_drift_de", same(colour_drift)),
        InjectedCase("jitter", "generic", "jitter", "jitter_excess_px", same(jitter)),
        InjectedCase("ghosting", "generic", "ghosting", "ghosting", same(ghosting)),
        InjectedCase("colour_bleed", "generic", "colour_bleed", "colour_bleed", same(colour_bleed)),
        InjectedCase("residual_shake", "stabilize", "residual_shake", "residual_jitter_px", shaky),
        InjectedCase("clean_stabilize", "stabilize", None, None, stabilized),
        InjectedCase("clean_denoise", "denoise", None, None, noisy),
        InjectedCase("clean_upscale", "upscale", None, None, up(upscale), scale=2.0),
        InjectedCase(
            "checkerboard",
            "upscale",
            "checkerboard",
            "checkerboard_peak",
            up(lambda f: checkerboard(upscale(f))),
            scale=2.0,
        ),
        InjectedCase("aliasing", "upscale", "aliasing", "graphics_aliasing", up(nearest_upscale), scale=2.0),
    ]
