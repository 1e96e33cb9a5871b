"""Flags for the two ways Whisper makes text up: repetition loops and text over silence.

Both return word ranges (indices into the word list given, end exclusive) with their times, so a
reviewer can jump to them and a caller can mark them for the review queue. Neither removes words:
a repeated "no, no, no" can be real speech, which is for a person to decide.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from rushes_asr.subtitles.accuracy import normalise_text
from rushes_asr.subtitles.errors import SubtitleInputError
from rushes_asr.subtitles.words import Word


@dataclass(frozen=True)
class RepetitionLoop:
    first_word: int
    end_word: int
    """One past the last word of the loop."""
    ngram: tuple[str, ...]
    repeats: int
    start_s: float
    end_s: float

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "ngram": list(self.ngram)}


@dataclass(frozen=True)
class TextOverSilence:
    first_word: int
    end_word: int
    """One past the last word of the run."""
    text: str
    start_s: float
    end_s: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def find_repetition_loops(
    words: Sequence[Word], *, min_repeats: int = 3, max_ngram: int = 8
) -> list[RepetitionLoop]:
    """Runs where the same n-gram (1 to `max_ngram` words, compared after normalisation) comes
    `min_repeats` or more times in a row. The shortest repeating n-gram describes each run."""
    if min_repeats < 2 or max_ngram < 1:
        raise SubtitleInputError("min_repeats must be >= 2 and max_ngram >= 1")
    keys = [normalise_text(word.text) for word in words]
    loops: list[RepetitionLoop] = []
    index = 0
    while index < len(keys):
        found = _loop_at(keys, index, min_repeats, max_ngram) if keys[index] else None
        if found is None:
            index += 1
            continue
        size, repeats = found
        end = index + size * repeats
        loops.append(
            RepetitionLoop(
                first_word=index,
                end_word=end,
                ngram=tuple(keys[index : index + size]),
                repeats=repeats,
                start_s=words[index].start_s,
                end_s=words[end - 1].end_s,
            )
        )
        index = end
    return loops


def _loop_at(keys: Sequence[str], index: int, min_repeats: int, max_ngram: int) -> tuple[int, int] | None:
    for size in range(1, max_ngram + 1):
        if index + size * min_repeats > len(keys):
            return None
        gram = keys[index : index + size]
        repeats = 1
        while keys[index + repeats * size : index + (repeats + 1) * size] == gram:
            repeats += 1
        if repeats >= min_repeats:
            return size, repeats
    return None


def find_text_over_silence(
    words: Sequence[Word], speech_intervals: Sequence[tuple[float, float]], *, tolerance_s: float = 0.1
) -> list[TextOverSilence]:
    """Runs of words whose whole span, widened by `tolerance_s` each side (VAD edges and word
    times are both approximate), touches no speech interval from voice activity detection."""
    intervals = _checked_intervals(speech_intervals)
    if tolerance_s < 0 or not math.isfinite(tolerance_s):
        raise SubtitleInputError(f"tolerance_s must be >= 0, got {tolerance_s!r}")
    starts = [start for start, _ in intervals]

    def heard(word: Word) -> bool:
        at = bisect.bisect_left(starts, word.end_s + tolerance_s) - 1
        return at >= 0 and intervals[at][1] > word.start_s - tolerance_s

    silent = [not heard(word) for word in words]
    runs: list[TextOverSilence] = []
    index = 0
    while index < len(words):
        if not silent[index]:
            index += 1
            continue
        end = index
        while end < len(words) and silent[end]:
            end += 1
        run = words[index:end]
        runs.append(
            TextOverSilence(
                first_word=index,
                end_word=end,
                text=" ".join(word.text.strip() for word in run),
                start_s=run[0].start_s,
                end_s=run[-1].end_s,
            )
        )
        index = end
    return runs


def _checked_intervals(speech_intervals: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The intervals validated, sorted and merged (so their ends rise with their starts)."""
    checked: list[tuple[float, float]] = []
    for index, interval in enumerate(speech_intervals):
        try:
            start, end = float(interval[0]), float(interval[1])
        except (TypeError, ValueError, IndexError) as error:
            raise SubtitleInputError(
                f"speech interval {index} is not a (start_s, end_s) pair: {interval!r}"
            ) from error
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
            raise SubtitleInputError(f"speech interval {index} ({start}, {end}) must have 0 <= start <= end")
        checked.append((start, end))
    merged: list[tuple[float, float]] = []
    for start, end in sorted(checked):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
