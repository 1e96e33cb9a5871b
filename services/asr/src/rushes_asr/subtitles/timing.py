"""Cue in- and out-times, in whole frames, from the words' times and the profile's timing rules.

Each cue starts on its first word and ends on its last, then, in this order:
1. a shot change inside the cue's last or first word, within `max_in_time_shift_s` of its end
   or start, becomes the out- or in-time;
2. short or fast cues are lengthened into the silence after them (never across the next shot
   change or into the next cue), and failing that start a little earlier;
3. small gaps are closed to the minimum gap, and the minimum gap is enforced;
4. out-times move onto a shot change just after them (or clear of one they would end next to),
   and in-times within a frame or so of a shot change move onto it.
Out-times may run past the last word (the text stays up while it is read), but in-times stay
close to the first word, which is what the timing-drift check measures. What cannot be fixed is
left for validation to report.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from rushes_asr.subtitles.profile import SubtitleProfile
from rushes_asr.subtitles.segmentation import Segment
from rushes_asr.subtitles.words import Word


@dataclass
class CueFrames:
    """A cue's in- and out-time in frames (the out-time is the frame the cue is gone on), and the
    frames of its first word's start and last word's end."""

    start: int
    end: int
    speech_start: int
    speech_end: int
    chars: int


def time_segments(
    tokens: Sequence[Word],
    segments: Sequence[Segment],
    profile: SubtitleProfile,
    *,
    fps: float,
    cuts: Sequence[int],
) -> list[CueFrames]:
    """Frames for every segment, with the timing fixes of the module docstring applied."""
    slots = _initial(tokens, segments, fps)
    shift = math.floor(profile.max_in_time_shift_s * fps + 1e-9)
    _snap_ends(slots, cuts, shift)
    _snap_starts(slots, cuts, shift, profile.min_gap_frames, profile.max_duration_frames(fps))
    _lengthen(slots, profile, fps, cuts, shift)
    _close_gaps(slots, profile, fps, cuts)
    _enforce_min_gap(slots, profile.min_gap_frames)
    _settle_ends_near_cuts(slots, profile, fps, cuts)
    _settle_starts_near_cuts(slots, profile, fps, cuts)
    return slots


def _initial(tokens: Sequence[Word], segments: Sequence[Segment], fps: float) -> list[CueFrames]:
    slots: list[CueFrames] = []
    for seg in segments:
        start = round(tokens[seg.first].start_s * fps)
        end = round(max(token.end_s for token in tokens[seg.first : seg.last + 1]) * fps)
        if slots and start <= slots[-1].start:
            start = slots[-1].start + 1  # words that overlap heavily: keep cues in order
        end = max(end, start + 1)
        chars = sum(len(line) for line in seg.layout.lines)
        slots.append(CueFrames(start, end, start, end, chars))
    return slots


def _snap_starts(slots: list[CueFrames], cuts: Sequence[int], shift: int, gap: int, max_frames: int) -> None:
    for index, slot in enumerate(slots):
        floor = slots[index - 1].speech_end + gap if index else 0
        near = [
            c
            for c in _cuts_between(cuts, slot.start - shift, slot.start + shift)
            if floor <= c < slot.end and slot.end - c <= max_frames
        ]
        if near:
            slot.start = min(near, key=lambda c: (abs(c - slot.start), c))
            slot.end = max(slot.end, slot.start + 1)


def _snap_ends(slots: list[CueFrames], cuts: Sequence[int], shift: int) -> None:
    """A shot change inside the last word (cue building broke after it) ends the cue on the cut:
    the word's tail runs into the next shot, but the text does not."""
    for slot in slots:
        inside = [c for c in _cuts_between(cuts, slot.end - shift, slot.end - 1) if c > slot.start]
        if inside:
            slot.end = inside[0]


def _lengthen(
    slots: list[CueFrames], profile: SubtitleProfile, fps: float, cuts: Sequence[int], shift: int
) -> None:
    gap = profile.min_gap_frames
    max_frames = profile.max_duration_frames(fps)
    for index, slot in enumerate(slots):
        needed = min(
            max(profile.min_duration_frames(fps), profile.reading_frames(slot.chars, fps)),
            max_frames,
        )
        if slot.end - slot.start >= needed:
            continue
        limit = slot.start + needed
        if index + 1 < len(slots):
            limit = min(limit, slots[index + 1].start - gap)
        at = bisect.bisect_left(cuts, slot.end)
        if at < len(cuts):
            limit = min(limit, cuts[at])
        slot.end = max(slot.end, limit)
        if slot.end - slot.start >= needed:
            continue
        earliest = max(slot.speech_start - shift, slots[index - 1].end + gap if index else 0)
        before = bisect.bisect_right(cuts, slot.start) - 1
        if before >= 0:
            earliest = max(earliest, cuts[before])
        slot.start = min(slot.start, max(earliest, slot.end - needed))


def _close_gaps(slots: list[CueFrames], profile: SubtitleProfile, fps: float, cuts: Sequence[int]) -> None:
    gap = profile.min_gap_frames
    max_frames = profile.max_duration_frames(fps)
    for before, after in itertools.pairwise(slots):
        if not gap < after.start - before.end <= profile.close_gap_frames:
            continue
        in_gap = _cuts_between(cuts, before.end, after.start)
        if in_gap:
            cut = in_gap[0]
            target = cut if after.start - cut >= gap else cut - gap
        else:
            target = after.start - gap
        if target > before.end and target - before.start <= max_frames:
            before.end = target


def _enforce_min_gap(slots: list[CueFrames], gap: int) -> None:
    for before, after in itertools.pairwise(slots):
        if after.start - before.end >= gap:
            continue
        before.end = max(before.start + 1, after.start - gap)
        if after.start - before.end < gap:
            after.start = before.end + gap
            after.end = max(after.end, after.start + 1)


def _settle_ends_near_cuts(
    slots: list[CueFrames], profile: SubtitleProfile, fps: float, cuts: Sequence[int]
) -> None:
    gap = profile.min_gap_frames
    clearance = profile.shot_change_clearance_frames
    max_frames = profile.max_duration_frames(fps)
    for index, slot in enumerate(slots):
        next_start = slots[index + 1].start if index + 1 < len(slots) else math.inf
        window_end = slot.end + max(profile.shot_change_snap_frames, clearance)
        near = _cuts_between(cuts, max(slot.start + 1, slot.end - clearance), window_end)
        near = [c for c in near if c <= next_start]
        if not near:
            continue
        cut = min(near, key=lambda c: abs(c - slot.end))
        if cut == slot.end:
            continue
        if cut < slot.end:
            slot.end = cut  # ran a frame or so past the change: end on it
        elif next_start - cut >= gap and cut - slot.start <= max_frames:
            slot.end = cut
        elif cut - slot.end <= clearance and cut - clearance - 1 > slot.start:
            slot.end = cut - clearance - 1


def _settle_starts_near_cuts(
    slots: list[CueFrames], profile: SubtitleProfile, fps: float, cuts: Sequence[int]
) -> None:
    gap = profile.min_gap_frames
    max_frames = profile.max_duration_frames(fps)
    clearance = profile.shot_change_clearance_frames
    for index, slot in enumerate(slots):
        near = [
            c for c in _cuts_between(cuts, slot.start - clearance, slot.start + clearance) if c != slot.start
        ]
        if not near:
            continue
        cut = near[0]
        floor = slots[index - 1].end + gap if index else 0
        if cut > slot.start:
            if cut < slot.end:
                slot.start = cut  # began a frame or so before the change: begin on it
        elif cut >= floor and slot.end - cut <= max_frames:
            slot.start = cut
        elif cut + clearance + 1 < slot.end:
            slot.start = cut + clearance + 1


def _cuts_between(cuts: Sequence[int], low: float, high: float) -> list[int]:
    """Cuts c with low <= c <= high."""
    return list(cuts[bisect.bisect_left(cuts, low) : bisect.bisect_right(cuts, high)])
