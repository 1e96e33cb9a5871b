"""Which takes deliver which script line, and where inside the take the line is spoken.

A take delivers a line when its transcript holds enough of the line's words in order
(SequenceMatcher's matching blocks over normalised words): a restart or a changed word costs a
little coverage, a different line shares almost nothing. The matched words' times give the span
of the line inside the take, so a take that holds a whole scene is cut to the line asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from rushes.asset.v1 import asset_pb2

from rushes_picks.delivery import FILLERS, normalise_word

# Matched words must make up at least this share of the take's words between the first and the
# last match, so a line is not "found" in words scattered over a long take.
MIN_DENSITY = 0.5


@dataclass(frozen=True)
class LineMatch:
    coverage: float  # share of the line's words the take says, in order
    start_s: float  # first matched word
    end_s: float  # last matched word


def _content(words: Sequence[asset_pb2.Word]) -> tuple[list[str], list[int]]:
    tokens: list[str] = []
    index: list[int] = []
    for i, word in enumerate(words):
        token = normalise_word(word.word)
        if token and token not in FILLERS and not token.endswith("-"):
            tokens.append(token)
            index.append(i)
    return tokens, index


def match_line(line_tokens: Sequence[str], words: Sequence[asset_pb2.Word]) -> LineMatch | None:
    """How well `words` deliver the line; None when they share nothing usable with it."""
    wanted = [t for t in line_tokens if t not in FILLERS]
    said, index = _content(words)
    if not wanted or not said:
        return None
    blocks = [b for b in SequenceMatcher(a=wanted, b=said, autojunk=False).get_matching_blocks() if b.size]
    matched = sum(b.size for b in blocks)
    if not matched:
        return None
    first = blocks[0].b
    last = blocks[-1].b + blocks[-1].size - 1
    if matched / (last - first + 1) < MIN_DENSITY:
        return None
    return LineMatch(
        coverage=round(matched / len(wanted), 4),
        start_s=words[index[first]].start_s,
        end_s=words[index[last]].end_s,
    )
