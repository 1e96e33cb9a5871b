"""The subtitle QC report: every rule's count and failing cues, timing drift against the words,
accuracy against a reference transcript, hallucination flags, and a verdict per quality target.

The targets are the issue's: WER at most 6 % (studio) / 8 % (field), punctuation F1 at least 95 %
/ 90 %, cue timing drift at most 0.25 s / 0.30 s, and no style rule violations. A check that
cannot be measured (no reference, no words) is `not_measured`: it neither passes nor fails, and
`passed` is true only when nothing measured failed; `complete` says whether everything was
measured. Hallucination flags are reported for review and do not enter the verdict (a repeated
"no, no, no" can be real speech).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rushes_asr.subtitles.accuracy import (
    PunctuationScore,
    WordErrorRate,
    punctuation_accuracy,
    word_error_rate,
)
from rushes_asr.subtitles.cue import Cue
from rushes_asr.subtitles.drift import CueDrift, measure_drift
from rushes_asr.subtitles.hallucination import (
    RepetitionLoop,
    TextOverSilence,
    find_repetition_loops,
    find_text_over_silence,
)
from rushes_asr.subtitles.profile import SubtitleProfile, check_fps, shot_change_frames
from rushes_asr.subtitles.validation import RULES, Violation, validate_cues
from rushes_asr.subtitles.words import Word, normalise_words

Status = Literal["pass", "fail", "not_measured"]

_RULE_LIMITS = {
    "chars_per_line": "max_chars_per_line",
    "lines": "max_lines",
    "reading_speed": "max_chars_per_second",
    "min_duration": "min_duration_s",
    "max_duration": "max_duration_s",
    "min_gap": "min_gap_frames",
    "gap_not_closed": "close_gap_frames",
    "shot_change_proximity": "shot_change_clearance_frames",
    "timing_drift": "max_timing_drift_s",
}


@dataclass(frozen=True)
class QualityTargets:
    name: str
    max_wer: float
    min_punctuation_f1: float
    max_timing_drift_s: float
    max_style_violations: int = 0


STUDIO = QualityTargets("studio", max_wer=0.06, min_punctuation_f1=0.95, max_timing_drift_s=0.25)
FIELD = QualityTargets("field", max_wer=0.08, min_punctuation_f1=0.90, max_timing_drift_s=0.30)


@dataclass(frozen=True)
class RuleSummary:
    rule: str
    description: str
    limit: float | int | None
    count: int
    failures: list[dict[str, Any]]


@dataclass(frozen=True)
class Check:
    value: float | int | None
    limit: float | int
    status: Status


@dataclass(frozen=True)
class Verdict:
    target: str
    passed: bool
    complete: bool
    checks: dict[str, Check]


@dataclass
class QCReport:
    profile: str
    fps: float
    language: str
    cue_count: int
    word_count: int | None
    shot_change_count: int
    rules: list[RuleSummary]
    style_violations: int
    drift: list[CueDrift] | None
    wer: WordErrorRate | None
    punctuation: PunctuationScore | None
    repetition_loops: list[RepetitionLoop] | None
    text_over_silence: list[TextOverSilence] | None
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    @property
    def max_drift_s(self) -> float | None:
        if self.drift is None:
            return None
        return max((d.drift_s for d in self.drift), default=0.0)

    def violations(self, rule: str) -> list[dict[str, Any]]:
        """The failures of one rule (empty when it passed)."""
        return next(summary.failures for summary in self.rules if summary.rule == rule)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the asset record's `subtitles.qc` and the audit trail."""
        drift: dict[str, Any] | None = None
        if self.drift is not None:
            values = [d.drift_s for d in self.drift]
            drift = {
                "max_s": round(max(values, default=0.0), 3),
                "mean_s": round(sum(values) / len(values), 3) if values else 0.0,
                "cues_measured": len(values),
            }  # cues over the limit are listed under rules["timing_drift"]
        return {
            "profile": self.profile,
            "fps": self.fps,
            "language": self.language,
            "cue_count": self.cue_count,
            "word_count": self.word_count,
            "shot_change_count": self.shot_change_count,
            "style_violations": self.style_violations,
            "rules": {summary.rule: asdict(summary) for summary in self.rules},
            "timing_drift": drift,
            "wer": self.wer.to_dict() if self.wer else None,
            "punctuation": self.punctuation.to_dict() if self.punctuation else None,
            "hallucination": {
                "repetition_loops": None
                if self.repetition_loops is None
                else [loop.to_dict() for loop in self.repetition_loops],
                "text_over_silence": None
                if self.text_over_silence is None
                else [run.to_dict() for run in self.text_over_silence],
            },
            "verdicts": {name: asdict(verdict) for name, verdict in self.verdicts.items()},
        }


def build_qc_report(
    cues: Sequence[Cue],
    profile: SubtitleProfile | None = None,
    *,
    fps: float = 25.0,
    shot_changes_s: Iterable[float] | None = None,
    words: Sequence[Word] | None = None,
    reference_text: str | None = None,
    speech_intervals: Sequence[tuple[float, float]] | None = None,
    language: str = "en",
    targets: Sequence[QualityTargets] = (STUDIO, FIELD),
) -> QCReport:
    """QC of `cues` (built here or read back from a delivered file). `words` enable the timing
    drift check and the repetition-loop flags, `reference_text` WER and punctuation, and
    `speech_intervals` (voice activity) the text-over-silence flags."""
    profile = profile or SubtitleProfile()
    fps = check_fps(fps)
    cut_list = list(shot_changes_s or [])
    tokens = normalise_words(words) if words is not None else None
    violations = validate_cues(
        cues, profile, fps=fps, shot_changes_s=cut_list, words=tokens, language=language
    )
    rules = _summaries(violations, profile)
    style = sum(1 for v in violations if v.rule != "timing_drift")
    hypothesis = " ".join(cue.text for cue in cues)
    wer = word_error_rate(reference_text, hypothesis) if reference_text is not None else None
    punctuation = punctuation_accuracy(reference_text, hypothesis) if reference_text is not None else None
    report = QCReport(
        profile=profile.name,
        fps=fps,
        language=language,
        cue_count=len(cues),
        word_count=len(tokens) if tokens is not None else None,
        shot_change_count=len(shot_change_frames(cut_list, fps)),
        rules=rules,
        style_violations=style,
        drift=measure_drift(cues, tokens) if tokens is not None else None,
        wer=wer,
        punctuation=punctuation,
        repetition_loops=find_repetition_loops(tokens) if tokens is not None else None,
        text_over_silence=(
            find_text_over_silence(tokens, speech_intervals)
            if tokens is not None and speech_intervals is not None
            else None
        ),
    )
    report.verdicts = {target.name: _verdict(report, target) for target in targets}
    return report


def _summaries(violations: Sequence[Violation], profile: SubtitleProfile) -> list[RuleSummary]:
    summaries = []
    for rule, description in RULES.items():
        failing = [v for v in violations if v.rule == rule]
        limit_field = _RULE_LIMITS.get(rule)
        summaries.append(
            RuleSummary(
                rule=rule,
                description=description,
                limit=getattr(profile, limit_field) if limit_field else None,
                count=len(failing),
                failures=[
                    {"cue_number": v.cue_number, "value": v.value, "detail": v.detail} for v in failing
                ],
            )
        )
    return summaries


def _check(value: float | int | None, limit: float | int, *, at_most: bool) -> Check:
    if value is None:
        return Check(None, limit, "not_measured")
    ok = value <= limit + 1e-9 if at_most else value >= limit - 1e-9
    return Check(value, limit, "pass" if ok else "fail")


def _verdict(report: QCReport, target: QualityTargets) -> Verdict:
    checks = {
        "wer": _check(report.wer.wer if report.wer else None, target.max_wer, at_most=True),
        "punctuation_f1": _check(
            report.punctuation.f1 if report.punctuation else None, target.min_punctuation_f1, at_most=False
        ),
        "timing_drift_s": _check(report.max_drift_s, target.max_timing_drift_s, at_most=True),
        "style_violations": _check(report.style_violations, target.max_style_violations, at_most=True),
    }
    statuses = [check.status for check in checks.values()]
    return Verdict(
        target=target.name,
        passed="fail" not in statuses,
        complete="not_measured" not in statuses,
        checks=checks,
    )
