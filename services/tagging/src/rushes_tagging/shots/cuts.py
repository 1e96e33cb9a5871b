"""Hard cuts: isolated spikes of aligned content change whose new content stays.

A frame N is a cut when all of these hold:
1. the aligned change from N-1 to N (`measures.content_change`) is a local maximum above an
   absolute floor, and `adjacent_ratio` times the changes into N-1 and out of N (unless the
   frame between is a mix of both shots: a cut straddling two frames);
2. it is `cut_ratio` times the local level of change on *both* sides (median over `context_s`
   before, and separately after). Sustained motion (whip pans, action, shake, a passing object)
   lifts at least one side, so only isolated spikes survive, and a second cut nearby does not
   mask the first because a median ignores it;
3. the change covers most of the picture (`min_coverage`): a fast object or a flapping wing
   changes a part of it, however strongly;
4. the content after N does not come back to the content before N within `flash_s`, even after
   forgiving a brightness gain: a camera flash or a glitch returns, a light switched on keeps the
   structure. Frames up to a few before N-1 count as "before", since a flash may build up.
Tests 1, 3 and 4 need pictures and run while streaming (`ShotDetector`); their results arrive
here as `CutEvidence`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rushes_tagging.shots.config import ShotDetectorConfig


@dataclass(frozen=True)
class CutEvidence:
    """What the streaming checks found about a cut candidate."""

    persistence: float  # least relit change between frames before and after (see module doc)
    coverage: float  # fraction of the picture that changed (measures.change_coverage)
    isolated: bool  # stands out from the changes into and out of its neighbours


@dataclass(frozen=True)
class CutDecision:
    frame: int
    change: float
    threshold: float
    persistence: float
    confidence: float
    reason: str


def local_level(change: np.ndarray, index: int, window: int) -> tuple[float, float]:
    """Median change over `window` frames before and after `index` (excluded), 0 where empty."""
    before = change[max(1, index - window) : index]
    after = change[index + 1 : index + 1 + window]
    level_before = float(np.median(before)) if before.size else 0.0
    level_after = float(np.median(after)) if after.size else 0.0
    return level_before, level_after


def decide_cuts(
    change: np.ndarray,
    candidates: dict[int, CutEvidence],
    *,
    window: int,
    config: ShotDetectorConfig,
) -> list[CutDecision]:
    """Accepted cuts among `candidates` (frame -> evidence), in frame order."""
    decisions = []
    for frame in sorted(candidates):
        value = float(change[frame])
        level = max(local_level(change, frame, window))
        threshold = max(config.cut_floor, config.cut_ratio * level)
        if value < threshold:
            continue
        evidence = candidates[frame]
        persistence = evidence.persistence
        if not evidence.isolated or evidence.coverage < config.min_coverage:
            continue
        if persistence < config.flash_return_ratio * value:
            continue
        # Margin over the threshold, and how clearly the new content stayed different.
        margin = 1.0 - 0.5 * (threshold / value) ** 2
        stays = min(
            1.0, (persistence / value - config.flash_return_ratio) / (1 - config.flash_return_ratio) + 0.5
        )
        confidence = round(max(0.0, min(1.0, margin * stays)), 3)
        reason = (
            f"content_change: {value:.3f} vs local level {level:.3f} "
            f"(threshold {threshold:.3f}) over {evidence.coverage:.0%} of the picture; "
            f"new content persists ({persistence:.3f})"
        )
        decisions.append(CutDecision(frame, value, threshold, persistence, confidence, reason))
    return decisions
