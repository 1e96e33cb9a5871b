"""Checks on a translation of the subtitles: glossary terms carried over, timing kept, and the
line rules of the target language met.

A translation delivered as its own cue list is compared with the source cues. With the same
number of cues they are compared pairwise (in- and out-times within a tolerance); otherwise each
translated cue must overlap a source cue and each source cue must be covered by a translated one.
Glossary coverage counts, for every source cue that uses a glossary term, whether the agreed
translation appears in the matching translated cue(s).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rushes_asr.subtitles.cue import Cue, check_cues
from rushes_asr.subtitles.errors import SubtitleInputError
from rushes_asr.subtitles.profile import SubtitleProfile
from rushes_asr.subtitles.validation import Violation, validate_cues

MIN_GLOSSARY_COVERAGE = 0.85


@dataclass(frozen=True)
class GlossaryMiss:
    source_cue: int
    term: str
    expected: str


@dataclass(frozen=True)
class TimingMismatch:
    cue_number: int
    detail: str
    side: str = "translation"
    """Which list `cue_number` counts in: "translation" or "source"."""


@dataclass
class LocalizationReport:
    language: str
    glossary_uses: int
    glossary_translated: int
    glossary_coverage: float | None
    """Translated uses over uses; None when the source uses no glossary term."""
    glossary_misses: list[GlossaryMiss]
    timing_mode: str
    """"paired" (same cue count) or "overlap"."""
    timing_mismatches: list[TimingMismatch]
    violations: list[Violation]
    min_glossary_coverage: float

    @property
    def passed(self) -> bool:
        coverage_ok = self.glossary_coverage is None or self.glossary_coverage > self.min_glossary_coverage
        return coverage_ok and not self.timing_mismatches and not self.violations

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "passed": self.passed,
            "glossary": {
                "uses": self.glossary_uses,
                "translated": self.glossary_translated,
                "coverage": self.glossary_coverage,
                "min_coverage": self.min_glossary_coverage,
                "misses": [asdict(miss) for miss in self.glossary_misses],
            },
            "timing": {
                "mode": self.timing_mode,
                "mismatches": [asdict(mismatch) for mismatch in self.timing_mismatches],
            },
            "violations": [violation.to_dict() for violation in self.violations],
        }


def check_localization(
    source_cues: Sequence[Cue],
    translated_cues: Sequence[Cue],
    glossary: Mapping[str, str],
    *,
    language: str,
    profile: SubtitleProfile | None = None,
    fps: float = 25.0,
    shot_changes_s: Iterable[float] | None = None,
    timing_tolerance_s: float = 0.25,
    min_glossary_coverage: float = MIN_GLOSSARY_COVERAGE,
) -> LocalizationReport:
    """Glossary coverage, timing against the source and `profile`'s rules (with `language`'s
    word rules) for `translated_cues`. Coverage must exceed `min_glossary_coverage`."""
    check_cues(source_cues)
    check_cues(translated_cues)
    if not translated_cues:
        raise SubtitleInputError("the translation has no cues")
    _check_glossary(glossary)
    if timing_tolerance_s < 0:
        raise SubtitleInputError("timing_tolerance_s must be >= 0")
    paired = len(source_cues) == len(translated_cues)
    counterparts = [
        [index] if paired else [j for j, t in enumerate(translated_cues) if _overlap(cue, t) > 0]
        for index, cue in enumerate(source_cues)
    ]
    uses, translated, misses = 0, 0, []
    for index, cue in enumerate(source_cues):
        target_text = " ".join(translated_cues[j].text for j in counterparts[index])
        for term in _terms_used(cue.text, glossary):
            uses += 1
            if _pattern(glossary[term]).search(target_text):
                translated += 1
            else:
                misses.append(GlossaryMiss(index + 1, term, glossary[term]))
    cut_list = list(shot_changes_s or [])
    return LocalizationReport(
        language=language,
        glossary_uses=uses,
        glossary_translated=translated,
        glossary_coverage=round(translated / uses, 4) if uses else None,
        glossary_misses=misses,
        timing_mode="paired" if paired else "overlap",
        timing_mismatches=_timing(source_cues, translated_cues, paired, timing_tolerance_s),
        violations=validate_cues(
            translated_cues, profile, fps=fps, shot_changes_s=cut_list, language=language
        ),
        min_glossary_coverage=min_glossary_coverage,
    )


def _check_glossary(glossary: Mapping[str, str]) -> None:
    if not isinstance(glossary, Mapping):
        raise SubtitleInputError("the glossary must map source terms to target terms")
    for term, expected in glossary.items():
        if (
            not isinstance(term, str)
            or not isinstance(expected, str)
            or not term.strip()
            or not expected.strip()
        ):
            raise SubtitleInputError(
                f"glossary entry {term!r} -> {expected!r}: both sides must be non-empty text"
            )


def _pattern(term: str) -> re.Pattern[str]:
    """The term as whole words, any case, any run of spaces between its words."""
    body = r"\s+".join(re.escape(part) for part in term.split())
    return re.compile(r"(?<!\w)" + body + r"(?!\w)", flags=re.IGNORECASE)


def _terms_used(text: str, glossary: Mapping[str, str]) -> list[str]:
    """Glossary terms in `text`, longest first; a term inside a longer one that matched there
    ("harbour" in "harbour master") is not a use of its own."""
    used: list[str] = []
    for term in sorted(glossary, key=len, reverse=True):
        pattern = _pattern(term)
        if pattern.search(text):
            used.append(term)
            text = pattern.sub(" \x00 ", text)
    return used


def _overlap(a: Cue, b: Cue) -> float:
    return min(a.end_s, b.end_s) - max(a.start_s, b.start_s)


def _timing(
    source: Sequence[Cue], translated: Sequence[Cue], paired: bool, tolerance: float
) -> list[TimingMismatch]:
    mismatches: list[TimingMismatch] = []
    if paired:
        for number, (a, b) in enumerate(zip(source, translated, strict=True), start=1):
            shift_in, shift_out = b.start_s - a.start_s, b.end_s - a.end_s
            if abs(shift_in) > tolerance + 1e-9 or abs(shift_out) > tolerance + 1e-9:
                mismatches.append(
                    TimingMismatch(
                        number, f"in {shift_in:+.3f} s, out {shift_out:+.3f} s from the source cue"
                    )
                )
        return mismatches
    for number, cue in enumerate(translated, start=1):
        if not any(_overlap(cue, s) > 0 for s in source):
            mismatches.append(TimingMismatch(number, "overlaps no source cue"))
    for number, cue in enumerate(source, start=1):
        if not any(_overlap(cue, t) > 0 for t in translated):
            mismatches.append(TimingMismatch(number, "no translated cue on screen", side="source"))
    return mismatches
