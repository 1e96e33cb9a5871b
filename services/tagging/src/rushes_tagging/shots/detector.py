"""The streaming shot detector: push one frame's features at a time, then `finish()`.

While frames stream in, the detector keeps cheap per-frame signals (the aligned change from the
previous frame, mean and peak luma) plus a ring of recent features (a few seconds), and runs the
checks that need pictures as soon as their frames are in: coverage, isolation and the flash check
of each cut candidate, the mix test at several time scales for dissolves. Decisions that need
context on both sides or the whole clip (local levels, transitions near each other, fades) are
made in `finish()` from the stored signals, which cost a few dozen bytes per frame.

This lets the tagging service compute its own per-frame statistics in the same decode pass and
assign them to shots afterwards.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from rushes_tagging.shots.boundaries import assemble
from rushes_tagging.shots.config import ShotDetectorConfig, frames_for
from rushes_tagging.shots.cuts import CutEvidence, decide_cuts, local_level
from rushes_tagging.shots.features import FrameFeatures
from rushes_tagging.shots.gradual import DissolveCandidate, decide_dissolves, decide_fades
from rushes_tagging.shots.measures import (
    BlendFit,
    align,
    blend_fit,
    blend_profile,
    change_coverage,
    content_change,
    mix_excess,
    quick_change,
    relit_change,
)
from rushes_tagging.shots.model import ShotResult
from rushes_tagging.shots.timecode import TimecodeClock

MIX_ALPHA_RANGE = (0.2, 0.8)  # a dissolve's middle frame mixes both shots noticeably
PRE_FRAMES = 6  # the flash checks compare with up to this many frames before a candidate
PRE_OFFSETS = (1, 2, 3, 5)  # which of them a cut candidate's flash check uses
POST_OFFSETS = (0, 1, 2, 3, 5, 8, 12, 18, 27, 40, 60)  # frames after it, ever sparser
ALIGN_ABOVE = 0.5  # frame-to-frame changes under this fraction of cut_floor skip the alignment search
MIX_EXCESS_LIMIT = 0.6  # screen: a middle frame this far off the path from one end to the other
TWO_FRAME_MAX_RESIDUAL = 0.3  # a frame between two shots that is this close to a mix of them
# A "mix" whose far end looks like the frames just before it (within this share of its change,
# allowing for camera motion meanwhile) is a flash fading out, not a dissolve.
MIX_RETURN_RATIO = 0.6


@dataclass
class _MixRun:
    """The latest centre of a run of consecutive mixed centres at one scale."""

    centre: int
    fit: BlendFit
    judged: bool = False


class ShotDetector:
    """Shot boundaries of one video stream, fed frame by frame in decode order.

    `fps` is the stream's average frame rate (it scales the time windows and labels timecodes);
    `start_timecode` is the label of the first frame ("01:00:00:00", "00:59:59;28"), and
    `drop_frame` overrides what its separator says.
    """

    def __init__(
        self,
        fps: float,
        *,
        config: ShotDetectorConfig | None = None,
        start_timecode: str | None = None,
        drop_frame: bool | None = None,
    ) -> None:
        if not isinstance(fps, int | float) or not math.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        self.fps = float(fps)
        self.config = config or ShotDetectorConfig()
        self.clock = TimecodeClock.for_stream(self.fps, start_timecode, drop_frame)
        cfg = self.config
        self._context = frames_for(cfg.context_s, self.fps, least=2, most=30)
        self._flash = frames_for(cfg.flash_s, self.fps, least=2, most=60)
        self._scales = sorted({frames_for(s, self.fps, least=2, most=120) for s in cfg.dissolve_scales_s})
        # The ring must reach back 4h frames from a judged dissolve centre's far end (plus the
        # frame a run may end late) and over a cut candidate's flash window and the frames before.
        self._ring: deque[FrameFeatures] = deque(
            maxlen=max(4 * self._scales[-1] + 3, max(self._flash, self._context) + PRE_FRAMES + 2)
        )
        self._times: list[float] = []
        self._change: list[float] = []
        # Running sum of the unaligned frame-to-frame change: by the triangle inequality the
        # change across any window is at most the sum of its steps, which lets the dissolve scan
        # skip windows where nothing much happens (most of them) without touching a picture.
        self._path: list[float] = [0.0]
        self._mean: list[float] = []
        self._peak: list[float] = []
        self._pending_cuts: list[int] = []
        self._cut_candidates: dict[int, CutEvidence] = {}
        self._mix_runs: dict[int, _MixRun] = {}
        self._pending_dissolves: list[DissolveCandidate] = []
        self._dissolves: list[DissolveCandidate] = []
        self._finished = False

    @property
    def frame_count(self) -> int:
        return len(self._times)

    @property
    def last_step_change(self) -> float:
        """Change from the previous frame to the last one pushed (0 before the second frame)."""
        return self._change[-1] if self._change else 0.0

    def push(self, frame_index: int, pts_s: float, features: FrameFeatures) -> None:
        """Add frame `frame_index` (0, 1, 2, ... in decode order) shown at `pts_s` seconds."""
        if self._finished:
            raise RuntimeError("push() after finish(): create a new ShotDetector for another clip")
        if frame_index != len(self._times):
            raise ValueError(
                f"frames must be pushed in order from 0: expected {len(self._times)}, got {frame_index}"
            )
        if not math.isfinite(pts_s):
            raise ValueError(f"frame {frame_index}: presentation time must be finite, got {pts_s!r}")
        previous = self._ring[-1] if self._ring else None
        self._times.append(float(pts_s))
        self._change.append(self._step_change(previous, features) if previous is not None else 0.0)
        self._mean.append(features.mean)
        self._peak.append(features.peak)
        self._ring.append(features)
        if frame_index >= 2:
            self._note_cut_candidate(frame_index - 1)
        self._check_cut_candidates(final=False)
        for half in self._scales:
            self._measure_span(half)
        self._check_dissolve_candidates(final=False)

    def finish(self, *, end_s: float | None = None) -> ShotResult:
        """Decide every transition and return the shots. `end_s` is when the last frame stops
        showing (default: its start plus one average frame period)."""
        if self._finished:
            raise RuntimeError("finish() was already called")
        self._finished = True
        count = len(self._times)
        if count >= 2:
            self._note_cut_candidate(count - 1)
        self._check_cut_candidates(final=True)
        self._check_dissolve_candidates(final=True)
        change = np.asarray(self._change, dtype=np.float64)
        cuts = decide_cuts(change, self._cut_candidates, window=self._context, config=self.config)
        fades = decide_fades(np.asarray(self._mean), np.asarray(self._peak), fps=self.fps, config=self.config)
        dissolves = decide_dissolves(self._dissolves, [c.frame for c in cuts], fades, config=self.config)
        if end_s is None:
            end_s = (self._times[-1] + 1.0 / self.fps) if self._times else 0.0
        return assemble(
            cuts=cuts,
            fades=fades,
            dissolves=dissolves,
            times=self._times,
            end_s=end_s,
            fps=self.fps,
            clock=self.clock,
            min_shot=frames_for(self.config.min_shot_s, self.fps, least=1),
        )

    # -- streaming checks -------------------------------------------------------------------

    def _step_change(self, previous: FrameFeatures, current: FrameFeatures) -> float:
        """Aligned change from the previous frame. Alignment can only lower the change, so a
        change already small unaligned (most frames) is kept as is and the search is skipped."""
        unaligned = quick_change(previous, current)
        self._path.append(self._path[-1] + unaligned)
        if unaligned < ALIGN_ABOVE * self.config.cut_floor:
            return unaligned
        return min(unaligned, content_change(previous, current))

    def _frame(self, index: int) -> FrameFeatures:
        """Features of a frame still in the ring."""
        offset = index - (len(self._times) - len(self._ring))
        if offset < 0:
            raise IndexError(f"frame {index} has left the look-back window")
        return self._ring[offset]

    def _note_cut_candidate(self, frame: int) -> None:
        change = self._change
        value = change[frame]
        after = change[frame + 1] if frame + 1 < len(change) else 0.0
        if value >= self.config.cut_floor and value >= change[frame - 1] and value >= after:
            self._pending_cuts.append(frame)

    def _check_cut_candidates(self, *, final: bool) -> None:
        """Evidence for each candidate once `flash_s` of frames after it are in (or at the end).

        The cheap tests run first (local level, isolation, coverage); the flash check, which
        compares several frames pairwise, runs only for candidates that pass them all.
        """
        last = len(self._times) - 1
        lookahead = max(self._flash, self._context)
        if not self._pending_cuts or not (final or self._pending_cuts[0] + lookahead <= last):
            return
        # Enough recent history for the local level on both sides of every ready candidate.
        recent = len(self._change) if final else lookahead + 2 * self._context + 4
        change = np.asarray(self._change[-recent:])
        offset = len(self._change) - len(change)
        while self._pending_cuts and (final or self._pending_cuts[0] + lookahead <= last):
            frame = self._pending_cuts.pop(0)
            level = max(local_level(change, frame - offset, self._context))
            if self._change[frame] < max(self.config.cut_floor, self.config.cut_ratio * level):
                continue
            isolated = self._isolated(frame)
            coverage = change_coverage(self._frame(frame - 1), self._frame(frame))
            if not isolated or coverage < self.config.min_coverage:
                continue
            self._cut_candidates[frame] = CutEvidence(
                persistence=self._persistence(frame, min(last, frame + self._flash)),
                coverage=coverage,
                isolated=isolated,
            )

    def _isolated(self, frame: int) -> bool:
        """Whether the jump into `frame` stands out from its neighbours, or straddles two frames
        through a mixed one (then it is one cut spread over two frames, not motion)."""
        change = self._change
        before = change[frame - 1]
        after = change[frame + 1] if frame + 1 < len(change) else 0.0
        if change[frame] >= self.config.adjacent_ratio * max(before, after):
            return True
        mixed = frame if after >= before else frame - 1
        if mixed - 1 < 0 or mixed + 1 >= len(change):
            return False
        fit = blend_fit(self._frame(mixed - 1), self._frame(mixed), self._frame(mixed + 1))
        return fit.residual <= TWO_FRAME_MAX_RESIDUAL and 0.15 <= fit.alpha <= 0.85

    def _persistence(self, frame: int, last: int) -> float:
        """Least relit change between frames before `frame` and frames from it to `last`.

        Frames up to PRE_FRAMES back are tried, not only the one before: a flash can build up
        over a frame or two, or fire twice, and then the candidate is where it fades, with the
        flash itself just before. Later frames are sampled ever more sparsely (a flash that is
        over stays over). Stops early once the content has clearly come back.
        """
        jump = self._change[frame]
        oldest = len(self._times) - len(self._ring)
        befores = [self._frame(frame - back) for back in PRE_OFFSETS if frame - back >= max(0, oldest)]
        lowest = math.inf
        for offset in POST_OFFSETS:
            if frame + offset > last:
                break
            after = self._frame(frame + offset)
            for before in befores:
                lowest = min(lowest, relit_change(before, after))
                if lowest < self.config.flash_return_ratio * jump:
                    return lowest
        return lowest

    def _returns_to_earlier(self, start: int, later: FrameFeatures, limit: float) -> bool:
        """Whether `later` shows again (relit change under `limit`) what a frame shortly before
        `start` showed."""
        earliest = max(0, start - PRE_FRAMES, len(self._times) - len(self._ring))
        return any(
            relit_change(self._frame(index), later) < limit for index in range(start - 1, earliest - 1, -1)
        )

    def _measure_span(self, half: int) -> None:
        """Mix test for the window centred `half` frames back; each run of consecutive mixed
        centres is judged once, at the centre whose mixing weight is nearest one half.

        Windows of 20 frames or more each side are tested at every other centre (their mixing
        weight moves by at most 1/40 per frame): half their cost, for about one dissolve in
        fifty lost on the generated test clips.
        """
        newest = len(self._times) - 1
        centre = newest - half
        if newest < 2 * half or (half >= 20 and centre % 2):
            return
        steps = self._path[newest] - self._path[newest - 2 * half]
        fit = (
            self._mix_fit(newest - 2 * half, centre, newest) if steps >= self.config.dissolve_floor else None
        )
        run = self._mix_runs.get(half)
        if fit is None:
            if run is not None and not run.judged:
                self._judge_mix(half, run.centre, run.fit)
            self._mix_runs.pop(half, None)
            return
        if run is not None and run.judged:
            return  # the rest of a run already judged
        if fit.alpha < 0.5:
            self._mix_runs[half] = _MixRun(centre, fit)
            return
        best = (centre, fit)
        if run is not None and abs(run.fit.alpha - 0.5) < abs(fit.alpha - 0.5):
            best = (run.centre, run.fit)
        self._judge_mix(half, *best)
        self._mix_runs[half] = _MixRun(centre, fit, judged=True)

    def _mix_fit(self, first_index: int, centre: int, last_index: int) -> BlendFit | None:
        """The blend fit of frame `centre` between the two ends, if it passes the cheap screens."""
        first, middle, last = self._frame(first_index), self._frame(centre), self._frame(last_index)
        cfg = self.config
        if min(first.peak, last.peak) < cfg.black_peak:
            return None
        across = quick_change(first, last)
        if across < cfg.dissolve_floor:
            return None
        if mix_excess(first, middle, last, across * first.vector.size / 3.0) > MIX_EXCESS_LIMIT:
            return None
        fit = blend_fit(first, middle, last)
        if (
            not MIX_ALPHA_RANGE[0] <= fit.alpha <= MIX_ALPHA_RANGE[1]
            or fit.residual > cfg.dissolve_max_residual
        ):
            return None
        return fit

    def _judge_mix(self, half: int, centre: int, fit: BlendFit) -> None:
        """The expensive evidence for one dissolve candidate (its 'after' context comes later)."""
        cfg = self.config
        first, last = self._frame(centre - half), self._frame(centre + half)
        alignment = align(first.luma, last.luma)
        change = content_change(first, last, alignment)
        if change < cfg.dissolve_floor:
            return  # the ends are one view, moved: a pan or a zoom, not two shots
        relit = relit_change(first, last, alignment)
        coverage = change_coverage(first, last, alignment)
        if relit < 0.5 * change or coverage < cfg.dissolve_min_coverage:
            return
        if self._returns_to_earlier(centre - half, last, MIX_RETURN_RATIO * change):
            return  # a flash fading out mixes white into the picture it interrupted
        profile = blend_profile(
            first, [self._frame(i) for i in range(centre - half, centre + half + 1)], last
        )
        start = max(0, centre - 2 * half)
        before = content_change(self._frame(start), first) if start < centre - half else 0.0
        self._pending_dissolves.append(
            DissolveCandidate(
                centre=centre,
                half=half,
                alpha=fit.alpha,
                residual=fit.residual,
                change=change,
                coverage=coverage,
                before=before,
                after=0.0,
                profile=profile,
            )
        )

    def _check_dissolve_candidates(self, *, final: bool) -> None:
        """The change over the h frames after each candidate, once they are in (or at the end)."""
        last = len(self._times) - 1
        if final:
            for half, run in list(self._mix_runs.items()):
                if not run.judged:
                    self._judge_mix(half, run.centre, run.fit)
            self._mix_runs.clear()
        still_pending = []
        for cand in self._pending_dissolves:
            end = cand.centre + 2 * cand.half
            if end <= last or final:
                opening = cand.centre + cand.half
                after = (
                    content_change(self._frame(opening), self._frame(min(end, last)))
                    if last > opening
                    else 0.0
                )
                self._dissolves.append(replace(cand, after=after))
            else:
                still_pending.append(cand)
        self._pending_dissolves = still_pending
