"""Frame pairs in, per-shot metrics out: the measures of measures.py scheduled over a shot.

Cheap measures (block luma for flicker, global motion for jitter) run on every frame; the
full-reference ones (SSIM, PSNR, halos, texture, colour, ghosting) on every `full_every`-th; the
native-resolution tile checks (checkerboard, graphics aliasing) on every `spectral_every`-th.
That schedule is what keeps QC near decode speed (see bench/qc.py).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import cv2
import numpy as np

from rushes_qc import measures
from rushes_qc.align import Geometry, GridFrame, Planes, native_tiles
from rushes_qc.presets import AnalysisOptions

with warnings.catch_warnings():  # colour-science warns about optional SciPy/Matplotlib at import
    warnings.simplefilter("ignore")
    from colour.difference import delta_E_CIE2000

_MOTION_WIDTH = 160
_COLOUR_GRID = (48, 27)
_JITTER_WINDOW = 9
_MIN_JITTER_FRAMES = 8
_UNKNOWN_LENGTH = 1 << 30
_COMPENSATION_MARGIN = 0.05  # of the width, each side: where undone shifts leave no picture


@dataclass
class KeptFrame:
    """A frame worth showing a reviewer: the aligned pair (analysis grid) and what made it worst."""

    frame: int
    metric: str
    value: float
    source: np.ndarray  # uint8 BGR
    rendition: np.ndarray


@dataclass
class ShotMeasurements:
    index: int
    start_frame: int
    end_frame: int
    metrics: dict[str, float]
    worst_frames: dict[str, int]
    series: dict[str, list[float | None]]
    frames: list[int]
    kept: list[KeptFrame]
    face_samples: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)


class ShotAnalyzer:
    """Accumulates one shot's frame pairs; `finish()` reduces them to per-shot metrics."""

    def __init__(
        self,
        index: int,
        start_frame: int,
        end_frame: int,
        geometry: Geometry,
        options: AnalysisOptions,
        *,
        motion_compensate: bool,
        upscale_periods: tuple[int, ...],
    ) -> None:
        self.index = index
        self.start_frame = start_frame
        self.end_frame = end_frame
        self.geometry = geometry
        self.options = options
        self.motion_compensate = motion_compensate
        self.periods = upscale_periods
        self._pushed = 0
        self._frames: list[int] = []
        self._block_diff: list[np.ndarray] = []
        self._src_steps: list[tuple[float, float]] = []
        self._ren_steps: list[tuple[float, float]] = []
        self._prev_small: tuple[np.ndarray, np.ndarray] | None = None
        self._prev_source_luma: np.ndarray | None = None
        self._full: dict[str, dict[int, float]] = {}
        self._lab_s: list[np.ndarray] = []
        self._lab_r: list[np.ndarray] = []
        self._lab_frames: list[int] = []
        self._tile_centre: tuple[float, float] | None = None
        self._kept: dict[str, KeptFrame] = {}
        self._faces: list[tuple[int, np.ndarray, np.ndarray]] = []
        self._margin = (
            max(4, round(geometry.analysis_width * _COMPENSATION_MARGIN)) if motion_compensate else 0
        )
        motion_w = min(_MOTION_WIDTH, geometry.analysis_width)
        self._motion_size = (
            motion_w,
            max(16, round(motion_w * geometry.analysis_height / geometry.analysis_width)),
        )

    def push(
        self,
        frame: int,
        source: GridFrame,
        rendition: GridFrame,
        source_planes: Planes,
        rendition_planes: Planes,
    ) -> None:
        ordinal = self._pushed
        self._pushed += 1
        self._frames.append(frame)
        s_luma, r_luma = source.luma, rendition.luma
        s_small = cv2.resize(s_luma, self._motion_size, interpolation=cv2.INTER_AREA)
        r_small = cv2.resize(r_luma, self._motion_size, interpolation=cv2.INTER_AREA)
        if self._prev_small is not None:
            sdx, sdy, _ = measures.global_shift(self._prev_small[0], s_small)
            rdx, rdy, _ = measures.global_shift(self._prev_small[1], r_small)
            self._src_steps.append((sdx, sdy))
            self._ren_steps.append((rdx, rdy))
        self._prev_small = (s_small, r_small)
        shift = (0.0, 0.0)
        if self.motion_compensate:
            # A stabilized frame is its source moved: undo the move (on the whole grid, sub-pixel)
            # and compare inside a fixed margin, so every frame of the shot covers the same area.
            dx, dy, _ = measures.global_shift(s_luma, r_luma)
            shift = (-dx, -dy)
            r_luma = _inner(measures.shift_image(r_luma, *shift), self._margin)
            s_luma = _inner(s_luma, self._margin)
        self._block_diff.append(measures.block_means(r_luma) - measures.block_means(s_luma))
        previous_source = self._prev_source_luma
        self._prev_source_luma = s_luma
        if ordinal % self.options.full_every == 0:
            self._full_reference(frame, source, rendition, s_luma, r_luma, previous_source, shift)
        if ordinal % self.options.spectral_every == 0 and self.periods:
            self._tiles(frame, source, source_planes, rendition_planes)

    def _full_reference(
        self,
        frame: int,
        source: GridFrame,
        rendition: GridFrame,
        s_luma: np.ndarray,
        r_luma: np.ndarray,
        previous_source: np.ndarray | None,
        shift: tuple[float, float],
    ) -> None:
        s_bgr, r_bgr = source.bgr(), rendition.bgr()
        if self.motion_compensate:
            r_bgr = _inner(measures.shift_image(r_bgr, *shift), self._margin)
            s_bgr = _inner(s_bgr, self._margin)
        ssim_value, _ = measures.ssim(s_luma, r_luma)
        self._record("ssim", frame, ssim_value)
        self._record("psnr_db", frame, measures.psnr_db(s_luma, r_luma))
        masks = measures.edge_masks(s_luma)
        halo = measures.halo_overshoot(s_luma, r_luma, masks)
        self._record("halo_overshoot", frame, halo)
        fine_s, mid_s = measures.band_energies(s_luma)
        fine_r, mid_r = measures.band_energies(r_luma)
        self._record("texture_retention", frame, measures.energy_ratio(mid_s, mid_r, masks.textured))
        self._record("detail_retention", frame, measures.energy_ratio(fine_s, fine_r, masks.textured))
        self._record("edge_sharpness", frame, measures.edge_sharpness(masks.gradient, r_luma, masks.strong))
        if previous_source is not None and previous_source.shape == s_luma.shape:
            self._record("ghosting", frame, measures.ghosting_weight(previous_source, s_luma, r_luma))
        # Chroma is stored at half resolution anyway: colour is measured there, converted to Lab after
        # the halving (a quarter of the conversions; the grid below averages far coarser still).
        half = (s_bgr.shape[1] // 2, s_bgr.shape[0] // 2)
        s_lab = measures.bgr_to_lab(cv2.resize(s_bgr, half, interpolation=cv2.INTER_AREA))
        r_lab = measures.bgr_to_lab(cv2.resize(r_bgr, half, interpolation=cv2.INTER_AREA))
        self._record("colour_bleed", frame, measures.colour_bleed(s_lab, r_lab))
        s_grid = cv2.resize(s_lab, _COLOUR_GRID, interpolation=cv2.INTER_AREA).reshape(-1, 3)
        r_grid = cv2.resize(r_lab, _COLOUR_GRID, interpolation=cv2.INTER_AREA).reshape(-1, 3)
        self._record("colour_de", frame, float(np.mean(delta_E_CIE2000(s_grid, r_grid))))
        self._lab_s.append(s_grid.mean(axis=0))
        self._lab_r.append(r_grid.mean(axis=0))
        self._lab_frames.append(frame)
        self._keep("ssim", frame, -ssim_value, s_bgr, r_bgr)
        self._keep("halo_overshoot", frame, halo, s_bgr, r_bgr)
        self._keep_face_sample(frame, s_bgr, r_bgr)
        if self._tile_centre is None:
            self._tile_centre = _busiest_point(
                masks,
                self.options.tile * self.geometry.analysis_width / max(self.geometry.rendition_width, 1),
            )

    def _tiles(self, frame: int, source: GridFrame, source_planes: Planes, rendition_planes: Planes) -> None:
        centre = self._tile_centre or (self.geometry.analysis_width / 2, self.geometry.analysis_height / 2)
        tiles = native_tiles(source_planes, rendition_planes, self.geometry, centre, self.options.tile)
        if tiles is None:
            return
        reference, rendition = tiles
        ratio, amplitude = measures.checkerboard_peak(rendition - reference, self.periods)
        # A peak needs both shape (far above the residual's spectrum) and strength (visible).
        self._record("checkerboard_peak", frame, ratio if amplitude >= 0.75 else min(ratio, 1.0))
        gradient = measures.gradient_magnitude(reference)
        strongest = float(gradient.max())
        if strongest >= 20.0:
            mask = cv2.dilate(
                (gradient > 0.5 * strongest).astype(np.uint8), np.ones((3, 3), np.uint8)
            ).astype(bool)
            fine_ref, _ = measures.band_energies(reference)
            fine_ren, _ = measures.band_energies(rendition)
            self._record("graphics_aliasing", frame, measures.energy_ratio(fine_ref, fine_ren, mask))

    def _record(self, name: str, frame: int, value: float | None) -> None:
        if value is not None and np.isfinite(value):
            self._full.setdefault(name, {})[frame] = float(value)

    def _keep(self, metric: str, frame: int, badness: float, s_bgr: np.ndarray, r_bgr: np.ndarray) -> None:
        kept = self._kept.get(metric)
        if kept is None or badness > kept.value:
            self._kept[metric] = KeptFrame(frame, metric, badness, s_bgr.copy(), r_bgr.copy())

    def _keep_face_sample(self, frame: int, s_bgr: np.ndarray, r_bgr: np.ndarray) -> None:
        wanted = self.options.face_samples
        if wanted and len(self._faces) < wanted:
            # Spread over the shot: the first full frame, then every ~third of the expected length.
            length = self.end_frame - self.start_frame
            step = max(1, (length if length < _UNKNOWN_LENGTH else 30 * wanted) // wanted)
            if not self._faces or frame - self._faces[-1][0] >= step:
                self._faces.append((frame, s_bgr.copy(), r_bgr.copy()))

    def finish(self) -> ShotMeasurements:
        metrics: dict[str, float] = {}
        worst: dict[str, int] = {}
        series: dict[str, list[float | None]] = {}
        for name, values in self._full.items():
            series[name] = [values.get(f) for f in self._frames]
        self._reduce(metrics, worst, "ssim", "ssim_mean", np.mean, None)
        self._reduce(metrics, worst, "ssim", "ssim_min", np.min, "min")
        self._reduce(metrics, worst, "psnr_db", "psnr_db_mean", np.mean, "min")
        self._reduce(metrics, worst, "halo_overshoot", "halo_overshoot", np.mean, "max")
        self._reduce(metrics, worst, "texture_retention", "texture_retention", np.median, "min")
        self._reduce(metrics, worst, "detail_retention", "detail_retention", np.median, "min")
        self._reduce(metrics, worst, "edge_sharpness", "edge_sharpness", np.median, "min")
        self._reduce(metrics, worst, "ghosting", "ghosting", np.median, "max")
        self._reduce(metrics, worst, "colour_bleed", "colour_bleed", np.median, "max")
        self._reduce(metrics, worst, "colour_de", "colour_de_mean", np.mean, "max")
        self._reduce(metrics, worst, "checkerboard_peak", "checkerboard_peak", np.median, "max")
        self._reduce(metrics, worst, "graphics_aliasing", "graphics_aliasing", np.median, "max")
        self._flicker(metrics, worst, series)
        self._colour_over_time(metrics, worst)
        self._jitter(metrics)
        return ShotMeasurements(
            index=self.index,
            start_frame=self.start_frame,
            end_frame=self.end_frame
            if self.end_frame - self.start_frame < _UNKNOWN_LENGTH
            else self._frames[-1] + 1,
            metrics={k: round(v, 4) for k, v in metrics.items()},
            worst_frames=worst,
            series=series,
            frames=list(self._frames),
            kept=list(self._kept.values()),
            face_samples=list(self._faces),
        )

    def _reduce(self, metrics, worst, source: str, name: str, how, worst_is: str | None) -> None:  # type: ignore[no-untyped-def]
        values = self._full.get(source)
        if not values:
            return
        metrics[name] = float(how(list(values.values())))
        if worst_is is not None:
            pick = min if worst_is == "min" else max
            worst[name] = pick(values, key=values.__getitem__)

    def _flicker(self, metrics: dict[str, float], worst: dict[str, int], series: dict) -> None:  # type: ignore[type-arg]
        """Frame-to-frame change of the rendition-minus-source luma, per block, worst block.
        A constant offset (a grade) cancels out; only pumping the source does not have counts."""
        if len(self._block_diff) < 2:
            return
        diffs = np.stack(self._block_diff)
        steps = np.abs(np.diff(diffs, axis=0)).max(axis=1)
        series["flicker"] = [None, *(round(float(v), 3) for v in steps)]
        metrics["flicker_excess"] = float(steps.max())
        worst["flicker_excess"] = self._frames[int(steps.argmax()) + 1]

    def _colour_over_time(self, metrics: dict[str, float], worst: dict[str, int]) -> None:
        """Cast = CIEDE2000 between the mean colours; drift = how far each frame's cast strays
        from the shot's typical cast (a fix whose colour wanders even if it starts right)."""
        if not self._lab_s:
            return
        lab_s, lab_r = np.stack(self._lab_s), np.stack(self._lab_r)
        cast = np.asarray(delta_E_CIE2000(lab_s, lab_r), dtype=np.float64).reshape(-1)
        metrics["colour_shift_de"] = float(np.median(cast))
        offsets = lab_r - lab_s
        typical = np.median(offsets, axis=0)
        drift = np.asarray(delta_E_CIE2000(lab_s + offsets, lab_s + typical), dtype=np.float64).reshape(-1)
        metrics["colour_drift_de"] = float(drift.max())
        worst["colour_drift_de"] = self._lab_frames[int(drift.argmax())]
        worst["colour_shift_de"] = self._lab_frames[int(cast.argmax())]

    def _jitter(self, metrics: dict[str, float]) -> None:
        """High-frequency part of the camera path (path minus its moving average), RMS, in source
        pixels: the shake. Reported for the rendition, and as the excess over the source's."""
        if len(self._src_steps) < _MIN_JITTER_FRAMES:
            return
        to_source_px = self.geometry.crop_width / self._motion_size[0]
        source_jitter = _path_jitter(np.asarray(self._src_steps)) * to_source_px
        rendition_jitter = _path_jitter(np.asarray(self._ren_steps)) * to_source_px
        metrics["source_jitter_px"] = source_jitter
        metrics["residual_jitter_px"] = rendition_jitter
        metrics["jitter_excess_px"] = max(0.0, rendition_jitter - source_jitter)


def _path_jitter(steps: np.ndarray) -> float:
    path = np.cumsum(np.vstack([[0.0, 0.0], steps]), axis=0)
    window = min(_JITTER_WINDOW, len(path) - (1 - len(path) % 2))
    pad = window // 2
    padded = np.pad(path, ((pad, pad), (0, 0)), mode="edge")
    kernel = np.ones(window) / window
    smooth = np.stack([np.convolve(padded[:, axis], kernel, mode="valid") for axis in (0, 1)], axis=1)
    residual = path - smooth
    return float(np.sqrt(np.mean(np.sum(residual**2, axis=1))))


def _inner(image: np.ndarray, margin: int) -> np.ndarray:
    if margin <= 0 or 2 * margin >= min(image.shape[:2]) - 16:
        return image
    return image[margin:-margin, margin:-margin]


def _busiest_point(masks: measures.EdgeMasks, tile_on_grid: float) -> tuple[float, float]:
    """Where a tile sees the most graphics edges (else strong edges): titles, logos, outlines."""
    source = masks.graphics if int(masks.graphics.sum()) > 32 else masks.strong
    side = max(3, int(tile_on_grid) | 1)
    density = cv2.boxFilter(source.astype(np.float32), -1, (side, side))
    y, x = np.unravel_index(int(density.argmax()), density.shape)
    return float(x), float(y)
