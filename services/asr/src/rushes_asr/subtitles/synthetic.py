"""Word streams with known timing, for tests and benchmarks of cue building (no audio needed).

Speech is laid out at a chosen speaking rate with short gaps between words and longer pauses
after clause and sentence marks, as read speech has; `seed` adds a little natural variation.
"""

from __future__ import annotations

import random

from rushes_asr.subtitles.language import ends_clause, ends_sentence, rules_for
from rushes_asr.subtitles.words import Word


def synthetic_speech(
    text: str,
    *,
    chars_per_second: float = 14.0,
    start_s: float = 0.5,
    word_gap_s: float = 0.04,
    clause_pause_s: float = 0.25,
    sentence_pause_s: float = 0.6,
    seed: int | None = None,
    whisper_spacing: bool = True,
) -> list[Word]:
    """Words of `text` spoken at about `chars_per_second` (gaps included). With
    `whisper_spacing` each word carries a leading space, as Whisper's words do."""
    rng = random.Random(seed)
    rules = rules_for("en")
    words: list[Word] = []
    at = start_s
    for token in text.split():
        duration = max(0.08, (len(token) + 1) / chars_per_second - word_gap_s)
        if seed is not None:
            duration *= rng.uniform(0.85, 1.15)
        words.append(
            Word((" " if whisper_spacing else "") + token, round(at, 3), round(at + duration, 3), 0.9)
        )
        at += duration + word_gap_s
        if ends_sentence(token, rules):
            at += sentence_pause_s
        elif ends_clause(token):
            at += clause_pause_s
    return words
