"""Every threshold of the shot detector, in one validated place.

Durations are in seconds and converted to frames with the stream's frame rate, so one preset means
the same at 24, 25, 50 or 60 fps. Change values per preset (tagging service configuration), never
in the detector code. The defaults were chosen on the generated clips of `synthetic.py` (cuts,
same-palette cuts, fades, dissolves of 4-48 frames, flashes, whip pans, fast motion, exposure
drift) and checked, not fitted, against the development clips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ShotDetectorConfig:
    """Thresholds and windows of `ShotDetector` (see each field's comment)."""

    cut_floor: float = 0.06
    """Least aligned luma+chroma change (mean absolute, 0..1 scale per channel) a cut may have.
    Noise and compression stay under 0.02; a cut between two shots of one place is above 0.1."""

    cut_ratio: float = 3.0
    """A cut must exceed this multiple of the local level of change on *both* sides: motion that
    lasts (whip pans, action, shake) raises one side or both, a cut is an isolated spike."""

    context_s: float = 0.3
    """Length of each side's window for that local level (median over the window)."""

    min_coverage: float = 0.5
    """Least fraction of the picture (in blocks) that must take part in a cut: a fast object or
    a flapping wing close to the lens changes only part of it, however strongly."""

    adjacent_ratio: float = 2.0
    """A cut must also exceed this multiple of the change into the frame before it and out of
    the frame after it, unless the frame between is a mix of both shots (a cut that straddles
    two frames, as telecine and field blending make)."""

    flash_s: float = 0.5
    """A change whose content comes back within this time is a flash or glitch, not a cut."""

    flash_return_ratio: float = 0.4
    """'Comes back': after forgiving a brightness gain, the post frame differs from the pre frame
    by less than this fraction of the jump itself."""

    black_peak: float = 0.12
    """A frame is black when its 99th-percentile luma (0 black .. 1 white) is below this."""

    fade_min_s: float = 0.1
    """Shortest luminance ramp that counts as a fade."""

    fade_min_rise: float = 0.06
    """Least gain in mean luma from the black frame to the end of the ramp."""

    dissolve_scales_s: tuple[float, ...] = (0.12, 0.24, 0.48, 0.96)
    """Half-widths at which a dissolve is looked for: each finds dissolves about 2 to 4 times its
    length, so these cover about 0.25 s to 4 s."""

    dissolve_floor: float = 0.12
    """Least change between the frames either side of a dissolve."""

    dissolve_ratio: float = 2.5
    """The aligned change across a dissolve (2h frames) must exceed this multiple of the aligned
    change over the h frames just before it and just after it (the shots either side hold
    together; a pan or zoom keeps changing)."""

    dissolve_min_coverage: float = 0.8
    """Least fraction of the picture that a dissolve must replace: a title or a logo fading in
    or out over a steady background mixes only part of it."""

    dissolve_max_residual: float = 0.45
    """How far the middle frame may be from the best mix of the two ends, relative to their distance."""

    min_shot_s: float = 0.12
    """Boundaries closer than this are merged (the stronger one is kept)."""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            values = value if isinstance(value, tuple) else (value,)
            if not values:
                raise ValueError(f"ShotDetectorConfig.{item.name} must not be empty")
            for number in values:
                if not isinstance(number, int | float) or not math.isfinite(number) or number <= 0:
                    raise ValueError(
                        f"ShotDetectorConfig.{item.name} must be a positive number, got {value!r}"
                    )
        for name in (
            "flash_return_ratio",
            "dissolve_max_residual",
            "black_peak",
            "min_coverage",
            "dissolve_min_coverage",
        ):
            if getattr(self, name) >= 1:
                raise ValueError(f"ShotDetectorConfig.{name} must be below 1, got {getattr(self, name)!r}")
        for name in ("cut_ratio", "adjacent_ratio", "dissolve_ratio"):
            if getattr(self, name) <= 1:
                raise ValueError(f"ShotDetectorConfig.{name} must be above 1, got {getattr(self, name)!r}")


def frames_for(seconds: float, fps: float, *, least: int = 1, most: int | None = None) -> int:
    """`seconds` as a whole number of frames at `fps`, clamped to [least, most]."""
    count = max(least, round(seconds * fps))
    return min(count, most) if most is not None else count
