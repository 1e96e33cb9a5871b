"""Word timings as the recogniser gives them, cleaned into the tokens that subtitles are made of.

Whisper hands out words with their leading space (" Hello,"), sometimes a lone punctuation mark as
a word of its own, and occasionally slightly overlapping times. `normalise_words` turns that into
one token per spoken word with its punctuation attached, so every later step can count characters
and look at punctuation without re-parsing.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rushes_asr.subtitles.errors import SubtitleInputError

_VARIANT_MARK = re.compile(r"\(\d+\)$")
_NON_SPEECH = re.compile(r"^(<[^>]*>|\[[^\]]*\])$")
MAX_BACKSTEP_S = 0.5
"""A word may start this much before the previous one (recogniser jitter) and is moved to it; a
larger step back means the words are not in order, which is refused."""


@dataclass(frozen=True)
class Word:
    """One recognised word: its text (may carry spaces and punctuation) and where it was spoken."""

    text: str
    start_s: float
    end_s: float
    probability: float = 1.0

    @classmethod
    def from_mapping(cls, item: Mapping[str, Any]) -> Word:
        """A word from the transcript record (`word`, `start_s`, `end_s`, `probability`); `text` is
        accepted for `word` so that both the asset record and this class's own names work."""
        text = item.get("word", item.get("text"))
        if not isinstance(text, str):
            raise SubtitleInputError(f"word entry has no text: {dict(item)!r}")
        try:
            return cls(
                text=text,
                start_s=float(item["start_s"]),
                end_s=float(item["end_s"]),
                probability=float(item.get("probability", 1.0)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise SubtitleInputError(f"word entry {dict(item)!r} lacks a numeric start_s/end_s") from error


def is_punctuation_only(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and all(unicodedata.category(ch)[0] in "PS" for ch in stripped)


def normalise_words(words: Iterable[Word]) -> list[Word]:
    """Tokens ready for subtitling: stripped text, lone punctuation glued to the word before it,
    empty words dropped, times checked and made monotonic. Raises `SubtitleInputError` naming the
    first bad word."""
    tokens: list[Word] = []
    previous_start = -math.inf
    for index, word in enumerate(words):
        if not isinstance(word, Word):
            raise SubtitleInputError(f"word {index} is a {type(word).__name__}, not a Word")
        if not (math.isfinite(word.start_s) and math.isfinite(word.end_s)):
            raise SubtitleInputError(f"word {index} ({word.text!r}) has a non-finite time")
        if word.start_s < 0 or word.end_s < word.start_s:
            raise SubtitleInputError(
                f"word {index} ({word.text!r}) has start {word.start_s} and end {word.end_s}: "
                "times must be >= 0 and end >= start"
            )
        if word.start_s < previous_start - MAX_BACKSTEP_S:
            raise SubtitleInputError(
                f"word {index} ({word.text!r}) starts at {word.start_s} s, before the word before it "
                f"({previous_start} s): words must be in time order"
            )
        start = max(word.start_s, previous_start)  # recognisers jitter by a few ms: keep the order
        end = max(word.end_s, start)
        previous_start = start
        text = " ".join(word.text.split())
        if not text:
            continue
        if tokens and is_punctuation_only(text):
            last = tokens[-1]
            closing = unicodedata.category(text[0]) in ("Po", "Pe", "Pf")
            glue = " " if word.text[:1].isspace() and not closing else ""  # "word," but "word -"
            tokens[-1] = Word(last.text + glue + text, last.start_s, max(last.end_s, end), last.probability)
            continue
        tokens.append(Word(text, start, end, word.probability))
    return tokens


def words_from_mappings(items: Sequence[Mapping[str, Any]]) -> list[Word]:
    """Words from the asset record's `transcript.words` list."""
    return [Word.from_mapping(item) for item in items]


def load_alignment_json(path: Path | str) -> list[Word]:
    """Words from a forced-alignment JSON file (`{"w": [{"b", "d", "t", "p"}]}` or a bare list),
    as the development set ships them: `(2)` pronunciation-variant marks removed, `<sil>` and other
    non-speech markers skipped."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SubtitleInputError(f"cannot read alignment file {path}: {error}") from error
    entries = document.get("w") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise SubtitleInputError(f"alignment file {path} has no word list")
    words: list[Word] = []
    for index, entry in enumerate(entries):
        try:
            text = _VARIANT_MARK.sub("", str(entry["t"]))
            begin, duration = float(entry["b"]), float(entry["d"])
            probability = float(entry.get("p", 1.0))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SubtitleInputError(f"alignment file {path}: entry {index} lacks b/d/t") from error
        if _NON_SPEECH.match(text):
            continue
        words.append(Word(text, begin, begin + duration, probability))
    return words
