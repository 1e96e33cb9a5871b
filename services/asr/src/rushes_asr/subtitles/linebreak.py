"""Laying a cue's words out on lines: the fewest lines that fit, then the best-scored breaks.

A break is scored by what it follows and precedes: after a sentence or clause mark is best, before
a conjunction or preposition is good, after one of those is poor, after a determiner or inside a
name is forbidden (only taken when nothing else fits, and then reported by validation). Balanced
lines are preferred, so a reader's eye does not jump between a long and a two-word line.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from rushes_asr.subtitles.language import (
    LanguageRules,
    core,
    ends_clause,
    ends_sentence,
    ends_with_punctuation,
    forbidden_break,
)

FORBIDDEN_COST = 50.0
_MAX_COMBINATIONS = 5000


@dataclass(frozen=True)
class Layout:
    lines: tuple[str, ...]
    cost: float


def break_cost(before: str, after: str, rules: LanguageRules) -> float:
    """Cost of breaking between two tokens (negative: a good place), shared by line and cue breaks."""
    if forbidden_break(before, after, rules):
        return FORBIDDEN_COST
    if ends_sentence(before, rules):
        return -2.0
    if ends_clause(before) or ends_with_punctuation(before):
        return -1.5
    cost = 0.0
    if core(before) in rules.weak_words:
        cost += 1.0
    if core(after) in rules.weak_words:
        cost -= 0.5
    return cost


def lay_out(tokens: Sequence[str], max_chars: int, max_lines: int, rules: LanguageRules) -> Layout | None:
    """The best layout of `tokens` in at most `max_lines` lines of `max_chars`, or None if none fits.

    Fewer lines always win (one line when the text fits on one); among layouts with the same
    number of lines the lowest break-and-balance cost wins.
    """
    lengths = [len(token) for token in tokens]
    total = sum(lengths) + len(tokens) - 1
    if total <= max_chars:
        return Layout((" ".join(tokens),), 0.0)
    costs = [break_cost(tokens[k], tokens[k + 1], rules) for k in range(len(tokens) - 1)]
    prefix = [0]
    for length in lengths:
        prefix.append(prefix[-1] + length)

    def line_length(start: int, stop: int) -> int:
        return prefix[stop] - prefix[start] + (stop - start - 1)

    for line_count in range(2, max_lines + 1):
        best: tuple[float, tuple[int, ...]] | None = None
        candidates = itertools.combinations(range(1, len(tokens)), line_count - 1)
        for breaks in itertools.islice(candidates, _MAX_COMBINATIONS):
            bounds = (0, *breaks, len(tokens))
            widths = [line_length(a, b) for a, b in itertools.pairwise(bounds)]
            if max(widths) > max_chars:
                continue
            cost = sum(costs[b - 1] for b in breaks) + 2.0 * (max(widths) - min(widths)) / max_chars
            if widths[0] > widths[-1]:
                cost += 0.05  # equal otherwise, a longer bottom line reads more easily
            if best is None or cost < best[0]:
                best = (cost, bounds)
        if best is not None:
            cost, bounds = best
            lines = tuple(" ".join(tokens[a:b]) for a, b in itertools.pairwise(bounds))
            return Layout(lines, cost)
    return None


def lay_out_anyway(tokens: Sequence[str], max_chars: int, max_lines: int, rules: LanguageRules) -> Layout:
    """A layout even when nothing fits (a single over-long word, say): greedy filling, whose
    faults validation then reports rather than hides."""
    layout = lay_out(tokens, max_chars, max_lines, rules)
    if layout is not None:
        return layout
    lines: list[str] = []
    for token in tokens:
        if lines and len(lines[-1]) + 1 + len(token) <= max_chars:
            lines[-1] += " " + token
        else:
            lines.append(token)
    return Layout(tuple(lines), FORBIDDEN_COST)
