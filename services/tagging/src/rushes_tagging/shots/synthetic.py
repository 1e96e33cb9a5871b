"""Labelled synthetic clips for the shot detector's tests and benchmark.

Each clip is a list of `SceneSpec`s laid end to end. Scenes are textured images seen through a
moving virtual camera (pans, zooms, whip pans with motion blur, shake, a fast foreground object),
joined by hard cuts, fades through black or dissolves, with camera flashes and exposure drifts as
distractors. The renderer knows exactly which frame is what, so the returned truth is exact.

Why synthetic: real footage with frame-exact labels is scarce, and the distractors that trip
detectors (flashes, whip pans) must be present in known places to prove they are *not* reported.
Speeds are relative to the frame size, so a clip means the same thing at 192 or 1280 pixels wide.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import cv2
import numpy as np
from av.video.stream import VideoStream

Motion = Literal["static", "pan", "zoom", "fast_pan", "whip_pan", "shake", "fast_object"]
Entry = Literal["start", "cut", "fade", "dissolve"]

PALETTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "sky": ((20, 60, 140), (120, 180, 230), (240, 240, 250), (30, 30, 60), (200, 120, 40)),
    "desert": ((170, 90, 30), (240, 200, 120), (110, 50, 20), (250, 240, 210), (60, 30, 10)),
    "forest": ((10, 60, 20), (90, 160, 60), (200, 220, 120), (40, 30, 20), (150, 110, 60)),
    "night": ((40, 20, 60), (110, 90, 150), (230, 210, 90), (10, 10, 20), (200, 60, 120)),
    "studio": ((120, 120, 125), (160, 155, 150), (60, 60, 65), (220, 215, 205), (90, 70, 60)),
}


@dataclass(frozen=True)
class SceneSpec:
    """One shot of a synthetic clip.

    `entry` is how this shot begins: "start" (first shot, or a fade in from black when
    `entry_frames` > 0), "cut", "fade" (the previous shot fades to black over `entry_frames`,
    then this one fades in over as many) or "dissolve" (a cross-fade over `entry_frames`).
    `flashes` are shot-local frame indices where a camera flash fires (a bright frame that decays
    over the next two). `exposure_drift` multiplies brightness linearly from 1 to 1+drift over
    the shot (auto-exposure hunting): a global change that is not a transition.
    """

    frames: int
    seed: int
    palette: str = "sky"
    motion: Motion = "pan"
    entry: Entry = "cut"
    entry_frames: int = 0
    flashes: tuple[int, ...] = ()
    exposure_drift: float = 0.0


@dataclass(frozen=True)
class ClipSpec:
    """A whole clip: its scenes plus the container-level properties that must not matter."""

    scenes: tuple[SceneSpec, ...]
    width: int = 320
    height: int = 180
    fps: Fraction = Fraction(25)
    noise: float = 2.0  # sensor grain, standard deviation in 8-bit levels
    fade_out_end: int = 0  # frames over which the last shot fades to black at the end
    variable_frame_rate: bool = False  # blocks of 10 frames last 0.7 and 1.3 frame periods in turn
    rotation: int | None = None  # display matrix, PyAV's counter-clockwise degrees
    sample_aspect_ratio: Fraction | None = None
    timecode: str | None = None  # start timecode written into the stream metadata
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    seed: int = 0


@dataclass
class _Layout:
    """Where each scene sits on the timeline and how it enters."""

    starts: list[int] = field(default_factory=list)  # first frame where the scene is visible
    total: int = 0


def textured_canvas(seed: int, width: int, height: int, palette: str, unit: int) -> np.ndarray:
    """A gradient with shapes about `unit` pixels across and fine stripes (RGB uint8): trackable, cheap to encode."""
    colours = PALETTES[palette]
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    first, second = np.array(colours[0], np.float32), np.array(colours[1], np.float32)
    angle = rng.uniform(0, math.pi)
    ramp = (x * math.cos(angle) + y * math.sin(angle)) / (
        abs(math.cos(angle)) * width + math.sin(angle) * height
    )
    mix = np.clip(ramp, 0, 1)[..., None]
    canvas = (first * (1 - mix) + second * mix).astype(np.uint8)
    unit = max(4, unit)
    for _ in range(width * height // (unit * unit * 4)):
        colour = tuple(int(c) for c in colours[int(rng.integers(2, len(colours)))])
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(unit // 2, unit * 3))
        if rng.random() < 0.5:
            cv2.circle(canvas, (cx, cy), size, colour, -1, lineType=cv2.LINE_AA)
        else:
            cv2.rectangle(canvas, (cx, cy), (cx + size, cy + size // 2), colour, -1)
    period = max(2.0, unit / 4)
    stripes = (np.sin(x / period) * np.sin(y / (period * 1.4)) * 12).astype(np.int16)[..., None]
    return np.clip(canvas.astype(np.int16) + stripes, 0, 255).astype(np.uint8)


class _SceneRenderer:
    """Renders shot-local frame k of one scene (also past its end, for the outgoing side of a dissolve)."""

    def __init__(self, spec: SceneSpec, width: int, height: int, fps: float) -> None:
        self.spec, self.width, self.height = spec, width, height
        self.speed_scale = 25.0 / fps  # speeds below are per frame at 25 fps
        travel = 3.2 if spec.motion == "whip_pan" else 1.0
        unit = height // 10
        self.canvas = textured_canvas(
            spec.seed, int(width * (1.6 + travel)), int(height * 1.6), spec.palette, unit
        )
        rng = np.random.default_rng(spec.seed + 1)
        self.shake = rng.uniform(-0.03, 0.03, size=(spec.frames * 2 + 64, 2))
        self.object = textured_canvas(spec.seed + 2, height // 2, height // 2, "night", unit)

    def _view(self, x: float, y: float, zoom: float = 1.0) -> np.ndarray:
        matrix = np.array([[1 / zoom, 0, x], [0, 1 / zoom, y]], np.float32)
        return cv2.warpAffine(
            self.canvas,
            matrix,
            (self.width, self.height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT,
        )

    def _pan_x(self, t: float) -> float:
        """Horizontal camera position (pixels) at shot-local time t (frames at 25 fps)."""
        w, motion = self.width, self.spec.motion
        if motion == "pan":
            return 0.006 * w * t
        if motion == "fast_pan":
            return 0.045 * w * t
        if motion == "whip_pan":
            # hold, then a 10-frame whip with smooth acceleration covering 3 frame widths, then hold
            begin = self.spec.frames * 0.4
            u = min(max((t - begin) / 10.0, 0.0), 1.0)
            return 3.0 * w * (u - math.sin(2 * math.pi * u) / (2 * math.pi))
        return 0.0

    def frame(self, k: int) -> np.ndarray:
        spec, w, h = self.spec, self.width, self.height
        t = k * self.speed_scale
        base_x, base_y = 0.2 * w, 0.2 * h
        if spec.motion in ("pan", "fast_pan", "whip_pan"):
            velocity = abs(self._pan_x(t + 0.5) - self._pan_x(t - 0.5))
            taps = 1 if velocity < 2 else min(12, int(velocity / 2) + 1)  # shutter-open motion blur
            views = [
                self._view(base_x + self._pan_x(t + (j / taps - 0.5) * 0.9), base_y).astype(np.float32)
                for j in range(taps)
            ]
            picture = np.mean(np.stack(views), axis=0).astype(np.uint8)
        elif spec.motion == "zoom":
            picture = self._view(base_x, base_y, zoom=1.0 + 0.004 * t)
        elif spec.motion == "shake":
            dx, dy = self.shake[k % len(self.shake)]
            picture = self._view(base_x + dx * w, base_y + dy * h, zoom=1.0 + 0.002 * t)
        else:
            picture = self._view(base_x, base_y)
        if spec.motion == "fast_object":
            picture = self._with_object(picture, t)
        if spec.exposure_drift:
            gain = 1.0 + spec.exposure_drift * min(k / max(spec.frames - 1, 1), 1.0)
            picture = np.clip(picture.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        return picture

    def _with_object(self, picture: np.ndarray, t: float) -> np.ndarray:
        """A large object crossing the frame in about 8 frames, every 20 frames (local motion)."""
        size = self.object.shape[0]
        phase = (t % 20.0) / 8.0
        if phase >= 1.0:
            return picture
        x = int(-size + phase * (self.width + size))
        y = (self.height - size) // 2
        out = picture.copy()
        left, right = max(x, 0), min(x + size, self.width)
        if right > left:
            out[y : y + size, left:right] = self.object[:, left - x : right - x]
        return out


def _layout(spec: ClipSpec) -> _Layout:
    """Scene start frames: a dissolve overlaps the previous scene's tail by `entry_frames`."""
    layout = _Layout()
    position = 0
    for index, scene in enumerate(spec.scenes):
        if index == 0 and scene.entry not in ("start",):
            raise ValueError("the first scene must have entry='start'")
        if index > 0 and scene.entry == "start":
            raise ValueError(f"scene {index}: only the first scene may have entry='start'")
        if scene.entry in ("fade", "dissolve") and scene.entry_frames < 2:
            raise ValueError(f"scene {index}: a {scene.entry} needs entry_frames >= 2")
        if scene.frames <= scene.entry_frames:
            raise ValueError(f"scene {index}: frames must exceed entry_frames")
        if scene.entry == "dissolve":
            position -= scene.entry_frames
            if position < layout.starts[-1]:
                raise ValueError(f"scene {index}: the dissolve is longer than the previous scene")
        layout.starts.append(position)
        position += scene.frames
    layout.total = position
    return layout


def render_frames(spec: ClipSpec) -> tuple[Iterator[np.ndarray], dict[str, Any]]:
    """(RGB frames, truth). Truth frames are 0-based; spans are [start_frame, end_frame)."""
    layout = _layout(spec)
    fps = float(spec.fps)
    renderers = [_SceneRenderer(scene, spec.width, spec.height, fps) for scene in spec.scenes]
    truth = _truth(spec, layout)
    alphas = _alphas(spec, layout)
    flash_gain = np.zeros(layout.total, np.float32)
    for scene, start in zip(spec.scenes, layout.starts, strict=True):
        for local in scene.flashes:
            for offset, gain in enumerate((1.0, 0.35, 0.1)):
                if 0 <= start + local + offset < layout.total:
                    flash_gain[start + local + offset] += gain
    rng = np.random.default_rng(spec.seed)

    def frames() -> Iterator[np.ndarray]:
        for index in range(layout.total):
            picture = np.zeros((spec.height, spec.width, 3), np.float32)
            for scene_index, renderer in enumerate(renderers):
                weight = alphas[scene_index][index]
                if weight > 0:
                    picture += weight * renderer.frame(index - layout.starts[scene_index]).astype(np.float32)
            if flash_gain[index]:
                picture = picture * (1 + 0.6 * flash_gain[index]) + 200 * flash_gain[index]
            if spec.noise:
                picture += rng.normal(0, spec.noise, picture.shape).astype(np.float32)
            yield np.clip(picture, 0, 255).astype(np.uint8)

    return frames(), truth


def _alphas(spec: ClipSpec, layout: _Layout) -> list[np.ndarray]:
    """Per scene, its weight in every frame of the timeline (0 where it is not visible)."""
    total = layout.total
    weights = []
    for index, (scene, start) in enumerate(zip(spec.scenes, layout.starts, strict=True)):
        weight = np.zeros(total, np.float32)
        end = start + scene.frames
        weight[start:end] = 1.0
        span = scene.entry_frames
        if scene.entry == "dissolve":
            weight[start : start + span] = (np.arange(span) + 1) / (span + 1)
        elif scene.entry in ("fade", "start") and span:
            weight[start : start + span] = np.arange(span) / span  # first frame black
        following = spec.scenes[index + 1] if index + 1 < len(spec.scenes) else None
        if following is not None and following.entry == "dissolve":
            fade = following.entry_frames
            weight[end - fade : end] = 1.0 - (np.arange(fade) + 1) / (fade + 1)
        elif following is not None and following.entry == "fade":
            fade = following.entry_frames
            weight[end - fade : end] = (fade - np.arange(fade)) / (fade + 1)
        elif following is None and spec.fade_out_end:
            fade = spec.fade_out_end
            weight[end - fade : end] = (fade - np.arange(fade)) / (fade + 1)
        weights.append(weight)
    return weights


def _truth(spec: ClipSpec, layout: _Layout) -> dict[str, Any]:
    cuts: list[int] = []
    gradual: list[dict[str, Any]] = []
    shots: list[dict[str, Any]] = []
    flashes: list[int] = []
    distractors: list[dict[str, Any]] = []
    boundaries = []
    for scene, start in zip(spec.scenes, layout.starts, strict=True):
        span = scene.entry_frames
        if scene.entry == "cut":
            cuts.append(start)
            boundaries.append((start, "cut"))
        elif scene.entry == "fade":
            gradual.append({"kind": "fade_out", "start_frame": start - span, "end_frame": start})
            gradual.append({"kind": "fade_in", "start_frame": start, "end_frame": start + span})
            boundaries.append((start, "fade"))
        elif scene.entry == "dissolve":
            gradual.append({"kind": "dissolve", "start_frame": start, "end_frame": start + span})
            boundaries.append((start + span // 2, "dissolve"))
        else:
            if span:
                gradual.append({"kind": "fade_in", "start_frame": 0, "end_frame": span})
            boundaries.append((0, "start"))
        flashes.extend(start + local for local in scene.flashes)
        if scene.motion in ("whip_pan", "fast_pan", "fast_object", "shake"):
            distractors.append(
                {"kind": scene.motion, "start_frame": start, "end_frame": start + scene.frames}
            )
    if spec.fade_out_end:
        gradual.append(
            {"kind": "fade_out", "start_frame": layout.total - spec.fade_out_end, "end_frame": layout.total}
        )
    for index, (first, entry) in enumerate(boundaries):
        end = boundaries[index + 1][0] if index + 1 < len(boundaries) else layout.total
        shots.append({"start_frame": first, "end_frame": end, "transition_in": entry})
    return {
        "frame_count": layout.total,
        "fps": float(spec.fps),
        "cuts": cuts,
        "gradual": gradual,
        "shots": shots,
        "flashes": flashes,
        "distractors": distractors,
    }


def write_clip(path: Path, spec: ClipSpec) -> dict[str, Any]:
    """Render and encode `spec` into `path` (the container follows the suffix); return its truth."""
    frames, truth = render_frames(spec)
    with av.open(str(path), "w") as output:
        stream = output.add_stream(spec.codec, rate=spec.fps, options={"preset": "veryfast", "crf": "22"})
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, spec.pix_fmt
        if spec.sample_aspect_ratio is not None:
            stream.codec_context.sample_aspect_ratio = spec.sample_aspect_ratio
        if spec.rotation is not None:
            stream.set_display_rotation(spec.rotation)
        if spec.timecode:
            stream.metadata["timecode"] = spec.timecode
        time_base = Fraction(1, 1000) if spec.variable_frame_rate else 1 / spec.fps
        stream.codec_context.time_base = time_base
        pts = 0
        times: list[float] = []
        for index, picture in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = pts, time_base
            times.append(float(pts * time_base))
            if spec.variable_frame_rate:
                factor = 0.7 if (index // 10) % 2 == 0 else 1.3
                pts += max(1, round(factor * 1000 / float(spec.fps)))
            else:
                pts += 1
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    truth["times_s"] = times
    return truth


def catalogue(width: int = 640, height: int = 360) -> dict[str, ClipSpec]:
    """Named clips covering every transition and distractor, at the given frame size.

    Each clip mixes true boundaries with the false positives users complain about most, so a
    detector cannot score well by being timid or by being trigger-happy.
    """
    s = SceneSpec
    return {
        "cuts_motion": ClipSpec(
            scenes=(
                s(45, 101, "sky", "pan", "start"),
                s(40, 102, "desert", "zoom"),
                s(35, 103, "forest", "static"),
                s(50, 104, "night", "shake"),
                s(30, 105, "studio", "pan"),
                s(40, 106, "sky", "zoom"),
            ),
            width=width,
            height=height,
        ),
        "same_location_cuts": ClipSpec(
            scenes=tuple(
                s(
                    36 + 4 * k,
                    110 + k,
                    "studio",
                    ("pan", "static", "zoom")[k % 3],
                    "start" if k == 0 else "cut",
                )
                for k in range(5)
            ),
            noise=3.0,
            width=width,
            height=height,
        ),
        "flashes": ClipSpec(
            scenes=(
                s(70, 121, "night", "static", "start", flashes=(12, 30, 31, 50)),
                s(60, 122, "sky", "pan", flashes=(20, 40)),
                s(50, 123, "forest", "shake", flashes=(25,)),
            ),
            width=width,
            height=height,
        ),
        "whip_pans": ClipSpec(
            scenes=(
                s(60, 131, "desert", "whip_pan", "start"),
                s(60, 132, "sky", "whip_pan"),
                s(50, 133, "forest", "fast_pan"),
                s(60, 134, "night", "whip_pan"),
            ),
            width=width,
            height=height,
        ),
        "fast_objects": ClipSpec(
            scenes=(
                s(60, 141, "forest", "fast_object", "start"),
                s(60, 142, "desert", "fast_object"),
                s(45, 143, "sky", "shake"),
            ),
            width=width,
            height=height,
        ),
        "fades_dissolves": ClipSpec(
            scenes=(
                s(50, 151, "sky", "pan", "start", 15),
                s(50, 152, "desert", "zoom", "dissolve", 8),
                s(60, 153, "forest", "pan", "fade", 12),
                s(70, 154, "night", "static", "dissolve", 30),
                s(50, 155, "studio", "shake", "dissolve", 16),
                s(45, 156, "sky", "static", "cut"),
            ),
            fade_out_end=15,
            width=width,
            height=height,
        ),
        "exposure_drift": ClipSpec(
            scenes=(
                s(80, 161, "sky", "static", "start", exposure_drift=0.6),
                s(80, 162, "forest", "pan", exposure_drift=-0.5),
                s(60, 163, "desert", "zoom", "dissolve", 20, exposure_drift=0.3),
            ),
            width=width,
            height=height,
        ),
        "ntsc_vfr_rotated": ClipSpec(
            scenes=(
                s(50, 171, "desert", "pan", "start"),
                s(45, 172, "night", "zoom"),
                s(60, 173, "sky", "static", "dissolve", 18),
                s(40, 174, "forest", "shake", "cut", flashes=(15,)),
            ),
            fps=Fraction(30000, 1001),
            variable_frame_rate=True,
            rotation=-90,
            sample_aspect_ratio=Fraction(4, 3),
            timecode="00:59:59;28",
            width=width,
            height=height,
        ),
    }
