"""Grouping words into cues: the cheapest sequence of cues over the whole word stream.

A greedy left-to-right fill leaves orphans (one or two words of a sentence alone in a cue) and
cannot see that a pause three words later is a better place to cut. This is a shortest-path
search over the word boundaries instead, with the greedy rules as costs: each cue costs a little
(so cues are filled), a cue boundary costs by where it falls (free after a sentence, cheap after a
clause mark or in a pause, dear mid-phrase, prohibitive after an article or inside a name), and a
cue that cannot be read at the profile's speed in the time it can have costs in proportion to the
shortfall. Pauses longer than the profile allows and shot changes between words are hard
boundaries. A shot change inside a word must end the cue just before or just after that word;
the search picks the side whose in- or out-time can move onto the cut (and otherwise the cheaper
one, which validation then reports as crossing). The search looks back only as far as a cue can
reach (lines x characters, maximum duration), so it is linear in the number of words.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from rushes_asr.subtitles.language import LanguageRules
from rushes_asr.subtitles.linebreak import Layout, break_cost, lay_out, lay_out_anyway
from rushes_asr.subtitles.profile import SubtitleProfile
from rushes_asr.subtitles.words import Word

_CUE_COST = 0.5
_MID_PHRASE_COST = 4.0
_CROSSING_COST = 100.0


@dataclass(frozen=True)
class Segment:
    """Words `first`..`last` (inclusive indices into the token list) and their line layout."""

    first: int
    last: int
    layout: Layout


@dataclass(frozen=True)
class CutPlan:
    """Where shot changes fall among the words."""

    breaks: set[int]
    """Token indices after which a cue must end (long pause, or a shot change between words)."""
    inside: dict[int, float]
    """Token index -> time of a shot change strictly inside that word."""


def plan_cuts(tokens: Sequence[Word], cut_times_s: Sequence[float], max_pause_s: float) -> CutPlan:
    breaks = {k for k in range(len(tokens) - 1) if tokens[k + 1].start_s - tokens[k].end_s >= max_pause_s}
    inside: dict[int, float] = {}
    starts = [token.start_s for token in tokens]
    for cut in cut_times_s:
        m = bisect.bisect_right(starts, cut) - 1
        if m < 0:
            continue
        if cut == tokens[m].start_s:
            if m > 0:
                breaks.add(m - 1)
        elif cut >= tokens[m].end_s:
            if m < len(tokens) - 1:
                breaks.add(m)
        else:
            inside.setdefault(m, cut)
    return CutPlan(breaks, inside)


def segment(
    tokens: Sequence[Word],
    profile: SubtitleProfile,
    *,
    fps: float,
    cut_times_s: Sequence[float],
    rules: LanguageRules,
) -> list[Segment]:
    """The cheapest split of `tokens` into cues (see the module docstring for the costs)."""
    count = len(tokens)
    if count == 0:
        return []
    texts = [token.text for token in tokens]
    plan = plan_cuts(tokens, cut_times_s, profile.max_pause_in_cue_s)
    capacity = profile.max_chars_per_line * profile.max_lines
    max_frames = profile.max_duration_frames(fps)
    shift_s = math.floor(profile.max_in_time_shift_s * fps + 1e-9) / fps
    min_gap_s = profile.min_gap_frames / fps

    best = [math.inf] * (count + 1)
    best[0] = 0.0
    choice: list[tuple[int, Layout] | None] = [None] * (count + 1)
    for last in range(count):
        boundary = _boundary_cost(tokens, last, plan.breaks, rules)
        if last in plan.inside and tokens[last].end_s - plan.inside[last] > shift_s:
            boundary += _CROSSING_COST  # ends after a cut it cannot be moved back onto
        chars = -1
        for first in range(last, -1, -1):
            if first < last and (first in plan.breaks or (first + 1 in plan.inside and first + 1 < last)):
                break
            chars += len(texts[first]) + 1
            frames = round(tokens[last].end_s * fps) - round(tokens[first].start_s * fps)
            if first < last and (chars > capacity or frames > max_frames):
                break
            if math.isinf(best[first]):
                continue
            window = texts[first : last + 1]
            layout = lay_out(window, profile.max_chars_per_line, profile.max_lines, rules)
            if layout is None:
                if first < last:
                    continue
                layout = lay_out_anyway(window, profile.max_chars_per_line, profile.max_lines, rules)
            cost = _CUE_COST + 0.5 * layout.cost + boundary
            cost += _timing_cost(tokens, first, last, chars, profile, min_gap_s, cut_times_s)
            if first in plan.inside and plan.inside[first] - tokens[first].start_s > shift_s:
                cost += _CROSSING_COST  # starts before a cut it cannot be moved onto
            if best[first] + cost < best[last + 1]:
                best[last + 1] = best[first] + cost
                choice[last + 1] = (first, layout)
    segments: list[Segment] = []
    end = count
    while end > 0:
        picked = choice[end]
        assert picked is not None  # every single word is a feasible cue, so every end is reachable
        first, layout = picked
        segments.append(Segment(first, end - 1, layout))
        end = first
    segments.reverse()
    return segments


def _boundary_cost(tokens: Sequence[Word], last: int, breaks: set[int], rules: LanguageRules) -> float:
    """Cost of ending a cue after token `last`."""
    if last == len(tokens) - 1 or last in breaks:
        return 0.0
    pause = tokens[last + 1].start_s - tokens[last].end_s
    cost = _MID_PHRASE_COST + 1.5 * break_cost(tokens[last].text, tokens[last + 1].text, rules)
    return max(0.0, cost - min(2.0, 4.0 * max(pause, 0.0)))


def _timing_cost(
    tokens: Sequence[Word],
    first: int,
    last: int,
    chars: int,
    profile: SubtitleProfile,
    min_gap_s: float,
    cut_times_s: Sequence[float],
) -> float:
    """How far the cue falls short of its reading time and minimum duration, given the time it
    can have (up to the next word or shot change, at most the maximum duration)."""
    start = tokens[first].start_s
    speech_end = tokens[last].end_s
    limit = start + profile.max_duration_s
    if last + 1 < len(tokens):
        limit = min(limit, tokens[last + 1].start_s - min_gap_s)
    at = bisect.bisect_left(cut_times_s, speech_end)
    if at < len(cut_times_s):
        limit = min(limit, cut_times_s[at])
    available = max(limit - start, speech_end - start, 1e-3)
    cost = 0.0
    needed = chars / profile.max_chars_per_second
    if needed > available:
        cost += 1.0 + 4.0 * (needed / available - 1.0)
    if available < profile.min_duration_s:
        cost += 2.0
    return cost
