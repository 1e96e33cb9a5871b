"""The per-shot accumulator: fed every decoded frame of a shot, it returns every decision at the end.

It runs inside the shot detector's decode pass, so it must be cheap per frame: camera motion is
registered on every consecutive pair (a small pyramid level), the full statistics run on every
Nth frame only (`stats_every_n_frames`), and nothing here blocks on I/O. Faces come from the
caller (the face detector is a Triton model): push() says which frames were sampled, and the
caller passes the boxes it found on any of them to finish().
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from . import cues, exposure, white_balance
from .category import CategoryCues, decide_category
from .colours import PixelSample, decide_dominant_colours
from .config import AnalysisConfig
from .decision import Decision, FaceBox, Flag, clamp01
from .flags import enhancement_flags
from .frame_features import FrameFeatures, measure_frame
from .mood import decide_mood, mean_saturation
from .motion import MotionTracker, PairMotion, decide_shakiness, summarise_motion
from .noise import decide_noise
from .pace import decide_pace
from .sharpness import decide_sharpness
from .shot_type import decide_shot_type, summarise_faces

MIN_SIDE = 32
DEFAULT_FPS = 25.0


class AnalysisInputError(ValueError):
    """The caller fed the analyzer something it cannot use (wrong array, order, or state)."""


@dataclass(frozen=True)
class ShotAnalysis:
    """Every field's decision for one shot, the raised enhancement flags and the keyframe."""

    decisions: dict[str, Decision]
    flags: list[Flag]
    keyframe_index: int
    keyframe_pts_s: float
    keyframe_bgr: np.ndarray = field(repr=False)
    frame_count: int
    sampled_frames: tuple[int, ...]
    duration_s: float
    measurements: dict[str, float]


@dataclass(frozen=True)
class RecordedStats:
    """A sampled frame's full statistics, measured when it was decoded, and its analysis picture."""

    features: FrameFeatures
    frame_bgr: np.ndarray = field(repr=False)


class ShotAnalyzer:
    """One instance per shot. push() every frame in decode order, then finish() once."""

    def __init__(
        self,
        config: AnalysisConfig | None = None,
        *,
        source_width: int | None = None,
        source_height: int | None = None,
        fps: float | None = None,
    ) -> None:
        """`source_width/height`: the original's size (for needs_upscale; defaults to the analysis
        frame's); `fps`: the nominal frame rate (defaults to the one the timestamps show)."""
        self.config = config or AnalysisConfig()
        if (source_width is None) != (source_height is None):
            raise AnalysisInputError("give both source_width and source_height, or neither")
        if (
            source_width is not None
            and source_height is not None
            and (source_width <= 0 or source_height <= 0)
        ):
            raise AnalysisInputError(f"source size must be positive, got {source_width}x{source_height}")
        if fps is not None and not (math.isfinite(fps) and 0 < fps <= 1000):
            raise AnalysisInputError(f"fps must be in (0, 1000], got {fps!r}")
        self._source = (source_width, source_height)
        self._fps = fps
        self._motion = MotionTracker(self.config)
        self._pixels = PixelSample()
        self._features: list[FrameFeatures] = []
        self._frame_count = 0
        self._shape: tuple[int, int] | None = None
        self._last_index: int | None = None
        self._first_pts: float | None = None
        self._last_pts: float | None = None
        self._pts_steps: list[float] = []
        self._keyframe: tuple[float, int, float, np.ndarray] | None = None  # score, index, pts, frame
        self._finished = False

    @property
    def sampled_frames(self) -> tuple[int, ...]:
        """Frame indices that got full statistics so far: where face detection is worth running."""
        return tuple(f.frame_index for f in self._features)

    def push(
        self, frame_index: int, pts_s: float, frame_bgr: np.ndarray, gray: np.ndarray | None = None
    ) -> bool:
        """Feed one decoded frame (uint8 BGR, ideally <= 480 px wide; `gray` its luma if the caller
        already has it). Returns True when this frame was sampled for full statistics."""
        if self._finished:
            raise AnalysisInputError("push() after finish(): use a new ShotAnalyzer for the next shot")
        self._check_picture(frame_bgr)
        gray = self._check_gray(frame_bgr, gray)
        self._advance(frame_index, pts_s)
        self._motion.push(gray)
        sampled = (self._frame_count - 1) % self.config.stats_every_n_frames == 0
        if sampled:
            self._add_stats(measure_frame(frame_index, frame_bgr, gray, self.config), pts_s, frame_bgr)
        return sampled

    def push_recorded(
        self,
        frame_index: int,
        pts_s: float,
        *,
        pair: PairMotion | None,
        stats: RecordedStats | None,
    ) -> None:
        """Feed one frame measured earlier, when it was decoded (the tagger decodes once, before it
        knows the shots): `pair` is the camera motion from the previous frame of THIS shot (None
        for the shot's first frame), `stats` the frame's full statistics if it was sampled."""
        if self._finished:
            raise AnalysisInputError("push_recorded() after finish(): use a new ShotAnalyzer")
        if stats is not None:
            self._check_picture(stats.frame_bgr)
        self._advance(frame_index, pts_s)
        if pair is not None:
            self._motion.pairs.append(pair)
        if stats is not None:
            self._add_stats(stats.features, pts_s, stats.frame_bgr)

    def _add_stats(self, features: FrameFeatures, pts_s: float, frame_bgr: np.ndarray) -> None:
        self._features.append(features)
        self._pixels.add(frame_bgr)
        self._consider_keyframe(features, pts_s, frame_bgr)

    def _advance(self, frame_index: int, pts_s: float) -> None:
        """Check the frame comes after the last one, then count it and note its time."""
        if not isinstance(frame_index, int | np.integer) or frame_index < 0:
            raise AnalysisInputError(f"frame_index must be a non-negative integer, got {frame_index!r}")
        if self._last_index is not None and frame_index <= self._last_index:
            raise AnalysisInputError(f"frame_index must increase: got {frame_index} after {self._last_index}")
        if not isinstance(pts_s, float | int | np.floating) or not math.isfinite(pts_s):
            raise AnalysisInputError(f"pts_s must be a finite number of seconds, got {pts_s!r}")
        if self._last_pts is not None and pts_s < self._last_pts:
            raise AnalysisInputError(f"pts_s must not go backwards: got {pts_s} after {self._last_pts}")
        if self._last_pts is not None:
            self._pts_steps.append(float(pts_s) - self._last_pts)
        if self._first_pts is None:
            self._first_pts = float(pts_s)
        self._last_pts = float(pts_s)
        self._last_index = int(frame_index)
        self._frame_count += 1

    def _check_picture(self, frame_bgr: np.ndarray) -> None:
        if (
            not isinstance(frame_bgr, np.ndarray)
            or frame_bgr.dtype != np.uint8
            or frame_bgr.ndim != 3
            or frame_bgr.shape[2] != 3
        ):
            got = (
                f"{frame_bgr.dtype} {list(frame_bgr.shape)}"
                if isinstance(frame_bgr, np.ndarray)
                else type(frame_bgr).__name__
            )
            raise AnalysisInputError(
                f"frame_bgr must be a uint8 array of shape [height, width, 3], got {got}"
            )
        height, width = frame_bgr.shape[:2]
        if min(height, width) < MIN_SIDE:
            raise AnalysisInputError(f"frame is {width}x{height}: both sides must be at least {MIN_SIDE} px")
        if height * width > self.config.max_frame_pixels:
            raise AnalysisInputError(
                f"frame is {width}x{height}: over max_frame_pixels={self.config.max_frame_pixels}; "
                "pass the small analysis frame (e.g. 480 px wide), not the full-resolution one"
            )
        if self._shape is not None and (height, width) != self._shape:
            raise AnalysisInputError(
                f"frame size changed within a shot: {self._shape[1]}x{self._shape[0]} -> {width}x{height}"
            )
        self._shape = (height, width)

    @staticmethod
    def _check_gray(frame_bgr: np.ndarray, gray: np.ndarray | None) -> np.ndarray:
        if gray is None:
            return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
        if not isinstance(gray, np.ndarray) or gray.dtype != np.uint8 or gray.shape != frame_bgr.shape[:2]:
            height, width = frame_bgr.shape[:2]
            got = f"{gray.dtype} {list(gray.shape)}" if isinstance(gray, np.ndarray) else type(gray).__name__
            raise AnalysisInputError(f"gray must be a uint8 array of shape [{height}, {width}], got {got}")
        return gray

    def _consider_keyframe(self, features: FrameFeatures, pts_s: float, frame_bgr: np.ndarray) -> None:
        guarded = self._frame_count <= self.config.keyframe_edge_guard_frames  # counted already
        # Frames at the very start only win when nothing later does (score shifted below any later one).
        score = features.keyframe_score - (2.0 if guarded else 0.0)
        if self._keyframe is None or score > self._keyframe[0]:
            self._keyframe = (score, features.frame_index, float(pts_s), frame_bgr.copy())

    def _frame_rate(self) -> float:
        if self._fps is not None:
            return self._fps
        steps = [s for s in self._pts_steps if s > 0]
        return 1.0 / float(np.median(steps)) if steps else DEFAULT_FPS

    def finish(
        self,
        faces: Mapping[int, Sequence[FaceBox]] | None = None,
        *,
        speech_fraction: float | None = None,
        audio_tempo: Decision | None = None,
    ) -> ShotAnalysis:
        """Decide every field. `faces`: frame index -> boxes found on that frame, for every frame the
        detector ran on (an empty list means it ran and found none; None means it did not run).
        `speech_fraction`: share of the shot with speech (None when unknown). `audio_tempo`: the
        result of audio_tempo() on the shot's audio, if any."""
        if self._finished:
            raise AnalysisInputError("finish() called twice")
        if not self._features or self._keyframe is None or self._shape is None:
            raise AnalysisInputError("finish() before any frame was pushed")
        if speech_fraction is not None and not (
            math.isfinite(speech_fraction) and 0.0 <= speech_fraction <= 1.0
        ):
            raise AnalysisInputError(f"speech_fraction must be in [0, 1] or None, got {speech_fraction!r}")
        if audio_tempo is not None and not (
            isinstance(audio_tempo, Decision)
            and isinstance(audio_tempo.value, dict)
            and "bpm" in audio_tempo.value
        ):
            raise AnalysisInputError("audio_tempo must be the Decision returned by audio_tempo() or None")
        face_frames = None
        if faces is not None:
            if not isinstance(faces, Mapping):
                raise AnalysisInputError("faces must map frame index -> list of FaceBox")
            for index, boxes in faces.items():
                if not isinstance(boxes, Sequence) or not all(isinstance(box, FaceBox) for box in boxes):
                    raise AnalysisInputError(f"faces[{index}] must be a sequence of FaceBox")
            face_frames = [summarise_faces(faces[i], self.config) for i in sorted(faces)] or None
        self._finished = True

        config, features = self.config, self._features
        height, width = self._shape
        fps = self._frame_rate()
        duration = (self._last_pts or 0.0) - (self._first_pts or 0.0) + 1.0 / fps
        histogram = np.mean([f.histogram for f in features], axis=0)
        luma = exposure.LumaStats.from_histogram(histogram, config)
        motion = summarise_motion(self._motion.pairs, fps=fps, frame_width=width, config=config)
        pixels = self._pixels.pixels()

        decisions: dict[str, Decision] = {}
        shot_type = decide_shot_type(face_frames, [f.detail_grid for f in features], config)
        decisions["shot_type"] = shot_type
        decisions["category"] = decide_category(
            CategoryCues(
                face_frames=face_frames,
                shot_type=str(shot_type.value),
                motion=motion,
                graphic_scores=[f.graphic for f in features],
                black_share=float(np.mean([f.black for f in features])),
                bars_share=float(np.mean([f.colour_bars for f in features])),
                speech_fraction=speech_fraction,
            ),
            config,
        )
        decisions["exposure"] = exposure.decide_exposure(luma, config, sampled_frames=len(features))
        white = white_balance.decide_white_balance(
            [f.illuminant for f in features if f.illuminant is not None]
        )
        decisions["white_balance"] = white
        blur = float(np.median([f.blur for f in features]))
        lap_var = float(np.median([f.laplacian_var for f in features]))
        decisions["sharpness"] = decide_sharpness(blur, lap_var, config)
        decisions["shakiness"] = decide_shakiness(motion, fps=fps, config=config)
        noisy_frames = [f for f in features if f.noise_measured_fraction > 0]
        sigma = float(np.median([f.noise_sigma for f in noisy_frames])) if noisy_frames else 0.0
        measured = float(np.mean([f.noise_measured_fraction for f in features]))
        decisions["noise"] = decide_noise(sigma, measured, config)
        decisions["dominant_colors"] = decide_dominant_colours(pixels, config)
        decisions["technical_cues"] = cues.decide_cues(
            black=[f.black for f in features],
            bars=[f.colour_bars for f in features],
            slate=[f.slate for f in features],
            frame_indices=[f.frame_index for f in features],
        )
        decisions["pace"] = decide_pace(
            shot_length_s=duration, motion=motion, audio_tempo=audio_tempo, config=config
        )
        motion_level = max(
            clamp01(motion.subject_motion / config.action_motion),
            clamp01(motion.camera_speed_pct_per_s / config.fast_camera_pct_per_s),
        )
        kelvin = float(white.value["kelvin"]) if isinstance(white.value, dict) else None
        decisions["mood"] = decide_mood(
            luma=luma, kelvin=kelvin, saturation=mean_saturation(pixels), motion_level=motion_level
        )

        source_width, source_height = self._source
        flags = enhancement_flags(
            jitter_pct=motion.jitter_pct,
            noise_sigma=sigma,
            source_width=source_width or width,
            source_height=source_height or height,
            config=config,
        )
        _, key_index, key_pts, key_frame = self._keyframe
        return ShotAnalysis(
            decisions=decisions,
            flags=flags,
            keyframe_index=key_index,
            keyframe_pts_s=key_pts,
            keyframe_bgr=key_frame,
            frame_count=self._frame_count,
            sampled_frames=self.sampled_frames,
            duration_s=duration,
            measurements={
                "mean_luma": luma.mean,
                "blur_index": blur,
                "noise_sigma": sigma,
                "jitter_pct": motion.jitter_pct,
                "camera_speed_pct_per_s": motion.camera_speed_pct_per_s,
                "subject_motion": motion.subject_motion,
                "fps": fps,
            },
        )
