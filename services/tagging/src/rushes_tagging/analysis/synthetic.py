"""Synthetic frames and sounds with a known truth, for the analyzers' tests and benchmarks.

Everything is generated from a seed, small and fast, so tests need no media files: a textured
scene to pan and shake over, a gray scene lit by a light of known colour temperature, colour bars,
a title card, a clapperboard, and a click track of known tempo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import cv2
import numpy as np

from .config import AnalysisConfig
from .decision import Decision, FaceBox
from .shot_analyzer import ShotAnalysis, ShotAnalyzer
from .white_balance import RGB_TO_XYZ, _colour

XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ)


def _encode_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)
    return np.round(encoded * 255.0).astype(np.uint8)


def textured_scene(width: int, height: int, *, seed: int = 0, detail: float = 1.0) -> np.ndarray:
    """A BGR frame with what real footage has: smooth shading, objects with hard edges, fine texture.

    `detail` scales the fine texture (0 gives clean shapes on smooth shading: a scene whose only
    noise is the noise a test adds)."""
    rng = np.random.default_rng(seed)
    shading = np.empty((height, width, 3), np.float32)
    for channel in range(3):
        coarse = rng.uniform(70, 180, size=(5, 8)).astype(np.float32)
        shading[..., channel] = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    frame = shading
    scale = min(width, height)
    for _ in range(40):
        colour = tuple(float(c) for c in rng.uniform(30, 225, size=3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if rng.random() < 0.5:
            radius = int(rng.integers(scale // 40 + 2, scale // 8 + 3))
            cv2.circle(frame, centre, radius, colour, -1, cv2.LINE_AA)
        else:
            size = rng.integers(scale // 30 + 2, scale // 5 + 3, size=2)
            cv2.rectangle(frame, centre, (centre[0] + int(size[0]), centre[1] + int(size[1])), colour, -1)
    if detail > 0:
        texture = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.2)
        frame += (texture / max(1e-6, float(texture.std())) * 9.0 * detail)[..., None]
    return np.clip(np.round(frame), 0, 255).astype(np.uint8)


def add_gaussian_noise(frame: np.ndarray, sigma: float, *, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noisy = frame.astype(np.float32) + rng.normal(0.0, sigma, frame.shape).astype(np.float32)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def gaussian_blur(frame: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(frame, (0, 0), sigma)


def camera_path_frames(
    scene: np.ndarray, width: int, height: int, offsets: Iterable[tuple[float, float]]
) -> Iterator[np.ndarray]:
    """Frames of size (width, height) seen by a camera whose top-left corner sits at each (x, y)
    offset (sub-pixel) inside a larger `scene`: pans, tilts and shake with a known path."""
    for x, y in offsets:
        matrix = np.array([[1.0, 0.0, -x], [0.0, 1.0, -y]], dtype=np.float32)
        yield cv2.warpAffine(
            scene, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
        )


def lit_gray_scene(
    kelvin: float, width: int, height: int, *, seed: int = 0, saturated_share: float = 0.0
) -> np.ndarray:
    """A scene of neutral gray patches (and a few muted coloured ones, balanced around gray) lit by
    a Planckian light of `kelvin` (CIE xy from colour-science, Kang 2002) and rendered by a camera
    balanced for D65, i.e. with the light's colour cast left in. `saturated_share` of the frame (a
    band on the left) is a saturated green wall: a scene that fools a plain gray-world estimate."""
    colour = _colour()
    x, y = colour.temperature.CCT_to_xy_Kang2002(float(kelvin))
    light_xyz = np.array([x / y, 1.0, (1.0 - x - y) / y])
    light_rgb = XYZ_TO_RGB @ light_xyz
    light_rgb = light_rgb / light_rgb.max()
    rng = np.random.default_rng(seed)
    rows, cols = 4, 6
    reflectance = np.empty((rows, cols, 3))
    for r in range(rows):
        for c in range(cols):
            gray = rng.uniform(0.08, 0.8)
            if (r * cols + c) % 4 == 3:  # a muted colour; alternating hues keep the mean neutral
                tint = np.array([1.25, 0.9, 0.85]) if (r + c) % 2 else np.array([0.8, 1.0, 1.2])
                reflectance[r, c] = gray * tint
            else:
                reflectance[r, c] = gray
    patches = cv2.resize(reflectance.astype(np.float32), (width, height), interpolation=cv2.INTER_NEAREST)
    wall = round(width * saturated_share)
    patches[:, :wall] = np.array([0.08, 0.45, 0.12], dtype=np.float32)
    linear = patches * light_rgb[None, None, :].astype(np.float32)
    return cv2.cvtColor(_encode_srgb(linear), cv2.COLOR_RGB2BGR)


# RGB 75% bars, in the order every SMPTE/EBU bar pattern shares.
_BARS_75 = [
    (191, 191, 191),
    (191, 191, 0),
    (0, 191, 191),
    (0, 191, 0),
    (191, 0, 191),
    (191, 0, 0),
    (0, 0, 191),
]


def smpte_bars(width: int, height: int) -> np.ndarray:
    """SMPTE EG 1 colour bars (SD layout, 75%): seven bars, the reverse-blue strip, -I/white/+Q/PLUGE."""
    rgb = np.zeros((height, width, 3), np.uint8)
    top, middle = round(height * 0.67), round(height * 0.75)
    edges = np.linspace(0, width, 8).round().astype(int)
    reverse = [
        (0, 0, 191),
        (19, 19, 19),
        (191, 0, 191),
        (19, 19, 19),
        (0, 191, 191),
        (19, 19, 19),
        (191, 191, 191),
    ]
    for i in range(7):
        rgb[:top, edges[i] : edges[i + 1]] = _BARS_75[i]
        rgb[top:middle, edges[i] : edges[i + 1]] = reverse[i]
    bottom = [
        (0, 33, 76),
        (255, 255, 255),
        (50, 0, 106),
        (19, 19, 19),
        (9, 9, 9),
        (19, 19, 19),
        (29, 29, 29),
        (19, 19, 19),
    ]
    cuts = np.array([0, 5, 10, 15, 20, 21.67, 23.33, 25, 28]) / 28 * width
    for i, value in enumerate(bottom):
        rgb[middle:, round(cuts[i]) : round(cuts[i + 1])] = value
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def ebu_bars(width: int, height: int) -> np.ndarray:
    """EBU full-field bars: white, yellow, cyan, green, magenta, red, blue, black, full height."""
    rgb = np.zeros((height, width, 3), np.uint8)
    levels = [(235, 235, 235), *_BARS_75[1:], (16, 16, 16)]
    edges = np.linspace(0, width, 9).round().astype(int)
    for i, value in enumerate(levels):
        rgb[:, edges[i] : edges[i + 1]] = value
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def title_card(
    width: int,
    height: int,
    lines: tuple[str, ...] = ("THE LONG ROAD", "a film by R. Shes"),
    *,
    background_bgr: tuple[int, int, int] = (60, 25, 10),
) -> np.ndarray:
    """Anti-aliased white text on a flat background: an opening title."""
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = background_bgr
    scale = height / 300.0
    for i, text in enumerate(lines):
        size = 1.4 * scale if i == 0 else 0.8 * scale
        (text_w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, 2)
        origin = ((width - text_w) // 2, int(height * (0.45 + 0.15 * i)))
        cv2.putText(frame, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, (240, 240, 240), 2, cv2.LINE_AA)
    return frame


def clapperboard(width: int, height: int, *, seed: int = 0) -> np.ndarray:
    """A slate held up in front of a scene: diagonal black/white stripes on the clapstick and
    chalk-white text on a black board below."""
    frame = textured_scene(width, height, seed=seed, detail=0.5)
    x0, x1 = int(width * 0.2), int(width * 0.8)
    y0, y1 = int(height * 0.15), int(height * 0.9)
    stick = y0 + int((y1 - y0) * 0.22)
    frame[y0:y1, x0:x1] = 20
    period = max(8, (x1 - x0) // 7)
    ys, xs = np.mgrid[y0:stick, x0:x1]
    stripes = ((xs + ys) // (period // 2)) % 2 == 0
    frame[y0:stick, x0:x1][stripes] = 235
    scale = height / 400.0
    for i, text in enumerate(("ROLL A001", "SCENE 12B  TAKE 3", "DIR R. SHES")):
        origin = (x0 + int(width * 0.03), stick + int((y1 - stick) * (0.3 + 0.27 * i)))
        cv2.putText(
            frame, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 1.0 * scale, (230, 230, 230), 2, cv2.LINE_AA
        )
    return frame


def click_track(bpm: float, seconds: float, sample_rate: int = 16000, *, seed: int = 0) -> np.ndarray:
    """Mono float32 clicks (short decaying 1.5 kHz bursts) at `bpm`, over faint noise."""
    rng = np.random.default_rng(seed)
    samples = (rng.normal(0, 0.003, int(seconds * sample_rate))).astype(np.float32)
    burst_t = np.arange(int(0.03 * sample_rate)) / sample_rate
    burst = (0.8 * np.sin(2 * np.pi * 1500 * burst_t) * np.exp(-burst_t / 0.006)).astype(np.float32)
    period = 60.0 / bpm
    for onset in np.arange(0.1, seconds - 0.05, period):
        start = int(onset * sample_rate)
        end = min(len(samples), start + len(burst))
        samples[start:end] += burst[: end - start]
    return samples


def moving_objects_frames(
    width: int, height: int, count: int, *, speed_px: float, seed: int = 0
) -> Iterator[np.ndarray]:
    """A static camera on a textured background with a dozen large objects crossing it at
    `speed_px` per frame in random directions, with sensor noise: subject motion without camera
    motion."""
    rng = np.random.default_rng(seed)
    background = textured_scene(width, height, seed=seed + 100)
    objects = [
        (
            rng.uniform(0, width),
            rng.uniform(0, height),
            rng.uniform(0, 2 * np.pi),
            int(rng.integers(height // 10, height // 5)),
            tuple(float(c) for c in rng.uniform(20, 235, 3)),
        )
        for _ in range(12)
    ]
    for frame_number in range(count):
        frame = background.copy()
        for x, y, angle, radius, colour in objects:
            cx = (x + np.cos(angle) * speed_px * frame_number) % width
            cy = (y + np.sin(angle) * speed_px * frame_number) % height
            cv2.circle(frame, (round(cx), round(cy)), radius, colour, -1, cv2.LINE_AA)
        yield add_gaussian_noise(frame, 1.5, seed=seed * 1000 + frame_number)


def analyse_frames(
    frames: Iterable[np.ndarray],
    *,
    config: AnalysisConfig | None = None,
    fps: float = 25.0,
    faces: Sequence[FaceBox] | Callable[[int], Sequence[FaceBox]] | None = None,
    speech_fraction: float | None = None,
    audio_tempo: Decision | None = None,
    source_size: tuple[int, int] | None = None,
) -> ShotAnalysis:
    """Run one shot's frames through a ShotAnalyzer the way the tagging service does. `faces`:
    the boxes "detected" on every sampled frame (or a function of the frame index); None means
    face detection did not run."""
    width, height = source_size if source_size is not None else (None, None)
    analyzer = ShotAnalyzer(config, source_width=width, source_height=height, fps=fps)
    for index, frame in enumerate(frames):
        analyzer.push(index, index / fps, frame)
    found = None
    if faces is not None:
        found = {i: list(faces(i) if callable(faces) else faces) for i in analyzer.sampled_frames}
    return analyzer.finish(found, speech_fraction=speech_fraction, audio_tempo=audio_tempo)
