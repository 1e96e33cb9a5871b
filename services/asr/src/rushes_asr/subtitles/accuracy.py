"""Transcript accuracy against a reference: word error rate and punctuation accuracy.

Both compare words after one normaliser (case folded, every Unicode punctuation character
removed, whitespace collapsed), so "Well, don't!" and "well dont" are the same two words.
WER is jiwer's word alignment. Punctuation is scored on the same alignment: for each reference
word matched to a hypothesis word, the punctuation mark after each is compared (precision: marks
the hypothesis placed that are right; recall: reference marks the hypothesis reproduced).
Numbers are not spelled out: "42" and "forty-two" differ, as they do on screen.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass

import jiwer

from rushes_asr.subtitles.errors import SubtitleInputError
from rushes_asr.subtitles.language import trailing_mark

_SPLIT = jiwer.Compose([jiwer.ReduceToListOfListOfWords()])
_IDEOGRAPHIC = {"\u3002": ".", "\u3001": ","}


@dataclass(frozen=True)
class WordErrorRate:
    wer: float
    reference_words: int
    hits: int
    substitutions: int
    deletions: int
    insertions: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class PunctuationScore:
    precision: float
    recall: float
    f1: float
    reference_marks: int
    hypothesis_marks: int
    correct: int
    aligned_words: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def normalise_text(text: str) -> str:
    """The text compared for WER: case folded, punctuation removed, one space between words."""
    return " ".join(word for word, _ in _tokens(text))


def _strip_punctuation(token: str) -> str:
    return "".join(ch for ch in token if unicodedata.category(ch)[0] != "P").casefold()


def _mark_class(mark: str) -> str:
    """One of . , ? ! ; : (full-width forms and the ellipsis fold to these), or ''."""
    folded = unicodedata.normalize("NFKC", mark)[:1]
    folded = _IDEOGRAPHIC.get(folded, folded)
    return folded if folded and folded in ".,?!;:" else ""


def _tokens(text: str) -> list[tuple[str, str]]:
    """(normalised word, punctuation mark after it or '') for every word of `text`; a token that
    is nothing but punctuation gives its mark to the word before it."""
    tokens: list[tuple[str, str]] = []
    for raw in text.split():
        word = _strip_punctuation(raw)
        mark = _mark_class(trailing_mark(raw))
        if not word:
            if tokens and mark:
                tokens[-1] = (tokens[-1][0], mark)
            continue
        tokens.append((word, mark))
    return tokens


def _align(
    reference: str, hypothesis: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], jiwer.WordOutput]:
    ref_tokens, hyp_tokens = _tokens(reference), _tokens(hypothesis)
    if not ref_tokens:
        raise SubtitleInputError("reference transcript has no words to compare against")
    output = jiwer.process_words(
        " ".join(word for word, _ in ref_tokens),
        " ".join(word for word, _ in hyp_tokens),
        reference_transform=_SPLIT,
        hypothesis_transform=_SPLIT,
    )
    return ref_tokens, hyp_tokens, output


def word_error_rate(reference: str, hypothesis: str) -> WordErrorRate:
    """WER of `hypothesis` against `reference` after `normalise_text` on both."""
    ref_tokens, _, output = _align(reference, hypothesis)
    return WordErrorRate(
        wer=round(float(output.wer), 4),
        reference_words=len(ref_tokens),
        hits=output.hits,
        substitutions=output.substitutions,
        deletions=output.deletions,
        insertions=output.insertions,
    )


def punctuation_accuracy(reference: str, hypothesis: str) -> PunctuationScore | None:
    """Punctuation precision/recall/F1 over aligned words; None when the reference has no
    punctuation at all (an unpunctuated reference cannot judge punctuation)."""
    ref_tokens, hyp_tokens, output = _align(reference, hypothesis)
    if not any(mark for _, mark in ref_tokens):
        return None
    correct = ref_marks = hyp_marks = aligned = 0
    for chunk in output.alignments[0]:
        if chunk.type not in ("equal", "substitute"):
            continue
        for offset in range(chunk.ref_end_idx - chunk.ref_start_idx):
            ref_mark = ref_tokens[chunk.ref_start_idx + offset][1]
            hyp_mark = hyp_tokens[chunk.hyp_start_idx + offset][1]
            aligned += 1
            ref_marks += bool(ref_mark)
            hyp_marks += bool(hyp_mark)
            correct += bool(ref_mark) and ref_mark == hyp_mark
    precision = correct / hyp_marks if hyp_marks else (1.0 if not ref_marks else 0.0)
    recall = correct / ref_marks if ref_marks else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PunctuationScore(
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(f1, 4),
        reference_marks=ref_marks,
        hypothesis_marks=hyp_marks,
        correct=correct,
        aligned_words=aligned,
    )
