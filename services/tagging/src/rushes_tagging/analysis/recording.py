"""A clip's analysis inputs, measured while it is decoded once, replayed per shot afterwards.

The shot detector confirms a boundary only frames (for a dissolve, seconds) after it happened, so
the analyzers cannot be fed shot by shot during the decode. Instead every frame's camera motion
(a few numbers per frame pair) and the full statistics of sampled frames are recorded as they
pass; the sampled analysis pictures (needed later for the keyframe, the colour sample and the
face detector) are spooled as JPEG to a temporary file, so memory stays bounded on long media.
Once the shots are known, `replay()` feeds each shot's ShotAnalyzer exactly what it would have
seen, and the clip is never decoded a second time.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

import cv2
import numpy as np

from .config import AnalysisConfig
from .frame_features import FrameFeatures, measure_frame
from .motion import MotionTracker
from .shot_analyzer import RecordedStats, ShotAnalyzer

SPOOL_JPEG_QUALITY = 94
MAX_SPOOL_IN_MEMORY = 32 * 1024 * 1024  # past this the spool rolls over to a temporary file


@dataclass(frozen=True)
class _Sampled:
    features: FrameFeatures
    offset: int
    length: int


class ClipRecording:
    """push() every decoded frame in order; then replay() each shot into its analyzer; close()."""

    def __init__(self, config: AnalysisConfig) -> None:
        self.config = config
        self._motion = MotionTracker(config)
        self._times: list[float] = []
        self._sampled: dict[int, _Sampled] = {}
        self._since_sample: int | None = None
        self._spool = tempfile.SpooledTemporaryFile(max_size=MAX_SPOOL_IN_MEMORY)  # noqa: SIM115 (closed in close())
        self._spool_end = 0

    def wants_stats(self, may_start_shot: bool) -> bool:
        """Whether the next frame should get full statistics: every Nth frame, and any frame that may
        open a new shot, so that even a flash-short shot after a cut has one sampled frame."""
        return (
            self._since_sample is None
            or may_start_shot
            or self._since_sample + 1 >= self.config.stats_every_n_frames
        )

    def push(
        self, frame_index: int, pts_s: float, motion_gray: np.ndarray, frame_bgr: np.ndarray | None
    ) -> None:
        """`motion_gray`: the analysis-size luma of every frame, made the same way for all of them
        (camera motion compares consecutive frames); `frame_bgr`: the analysis-size picture when
        wants_stats() said so (None otherwise)."""
        if frame_index != len(self._times):
            raise ValueError(f"frames must be pushed in order from 0: expected {len(self._times)}")
        self._times.append(float(pts_s))
        self._motion.push(motion_gray)
        if frame_bgr is None:
            self._since_sample = None if self._since_sample is None else self._since_sample + 1
            return
        gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
        features = measure_frame(frame_index, frame_bgr, gray, self.config)
        ok, jpeg = cv2.imencode(".jpg", frame_bgr, [cv2.IMWRITE_JPEG_QUALITY, SPOOL_JPEG_QUALITY])
        if not ok:
            raise RuntimeError(f"could not spool analysis frame {frame_index}")
        data = jpeg.tobytes()
        self._spool.seek(self._spool_end)
        self._spool.write(data)
        self._sampled[frame_index] = _Sampled(features, self._spool_end, len(data))
        self._spool_end += len(data)
        self._since_sample = 0

    @property
    def frame_count(self) -> int:
        return len(self._times)

    def sampled_in(self, start: int, end: int) -> list[int]:
        """Sampled frame indices in [start, end), in order."""
        return [index for index in range(start, min(end, len(self._times))) if index in self._sampled]

    def picture(self, frame_index: int) -> np.ndarray:
        """The spooled analysis picture (BGR) of a sampled frame."""
        entry = self._sampled[frame_index]
        self._spool.seek(entry.offset)
        data = np.frombuffer(self._spool.read(entry.length), np.uint8)
        picture = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if picture is None:
            raise RuntimeError(f"spooled analysis frame {frame_index} is unreadable")
        return picture

    def replay(self, analyzer: ShotAnalyzer, start: int, end: int) -> None:
        """Feed frames [start, end) to the shot's analyzer. A shot without any sampled frame (only
        possible after a gradual transition shorter than the sampling period) borrows the nearest
        sampled frame before it, so every shot gets decided."""
        end = min(end, len(self._times))
        pairs = self._motion.pairs  # pairs[k - 1] is the motion from frame k - 1 to frame k
        borrowed = None
        if not self.sampled_in(start, end):
            earlier = [index for index in self._sampled if index < start]
            borrowed = max(earlier) if earlier else min(self._sampled)
        for index in range(start, end):
            stats = None
            source = borrowed if (borrowed is not None and index == start) else index
            if source in self._sampled:
                stats = RecordedStats(self._sampled[source].features, self.picture(source))
            pair = pairs[index - 1] if index > start else None
            analyzer.push_recorded(index, self._times[index], pair=pair, stats=stats)

    def close(self) -> None:
        self._spool.close()
