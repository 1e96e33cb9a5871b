"""Every rule of a subtitle profile, checked on a list of cues, every fault reported.

Validation never fixes anything; it is run on what cue building produced and on what was read
back from each delivered file, so a fault that building could not avoid (speech too fast to read,
a shot change inside a word) shows up here rather than being hidden.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from rushes_asr.subtitles.cue import Cue, check_cues
from rushes_asr.subtitles.drift import measure_drift
from rushes_asr.subtitles.language import LanguageRules, forbidden_break, rules_for
from rushes_asr.subtitles.profile import SubtitleProfile, check_fps, shot_change_frames
from rushes_asr.subtitles.words import Word, normalise_words

RULES: dict[str, str] = {
    "chars_per_line": "a line is longer than max_chars_per_line",
    "lines": "a cue has more than max_lines lines",
    "reading_speed": "characters per second above max_chars_per_second",
    "min_duration": "a cue is shorter than min_duration_s",
    "max_duration": "a cue is longer than max_duration_s",
    "min_gap": "fewer than min_gap_frames between a cue and the next (negative: overlap)",
    "gap_not_closed": "a gap of close_gap_frames or less, with no shot change in it, left open",
    "shot_change_crossing": "a cue runs across a shot change",
    "shot_change_proximity": "an in- or out-time within shot_change_clearance_frames of a shot change, not on it",
    "line_break": "a line ends on a determiner or splits a name",
    "cue_break": "a cue ends on a determiner or splits a name with the next cue",
    "empty_text": "a cue shows no text",
    "timing_drift": "in-time off its first word, or out-time before its last word ends, by more than max_timing_drift_s",
}
"""Rule names, in report order, with what breaks each."""


@dataclass(frozen=True)
class Violation:
    rule: str
    cue_number: int
    value: float | int | str
    limit: float | int | None
    detail: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def validate_cues(
    cues: Sequence[Cue],
    profile: SubtitleProfile | None = None,
    *,
    fps: float = 25.0,
    shot_changes_s: Iterable[float] | None = None,
    words: Sequence[Word] | None = None,
    language: str = "en",
) -> list[Violation]:
    """Every violation of `profile` in `cues`, by cue number then rule. Timing drift is checked
    only when `words` are given; word rules only for languages that have them (`rules_for`)."""
    profile = profile or SubtitleProfile()
    fps = check_fps(fps)
    check_cues(cues)
    cuts = shot_change_frames(shot_changes_s, fps)
    rules = rules_for(language)
    frames = [(round(cue.start_s * fps), round(cue.end_s * fps)) for cue in cues]
    clearance = profile.shot_change_clearance_frames
    found: list[Violation] = []

    def report(
        rule: str, number: int, value: float | int | str, limit: float | int | None, detail: str
    ) -> None:
        found.append(Violation(rule, number, value, limit, detail))

    for number, (cue, (start, end)) in enumerate(zip(cues, frames, strict=True), start=1):
        longest = max(len(line) for line in cue.lines)
        if longest > profile.max_chars_per_line:
            report(
                "chars_per_line",
                number,
                longest,
                profile.max_chars_per_line,
                f"{longest} characters on a line",
            )
        if len(cue.lines) > profile.max_lines:
            report("lines", number, len(cue.lines), profile.max_lines, f"{len(cue.lines)} lines")
        if not cue.text:
            report("empty_text", number, 0, None, "no text")
        seconds = max(end - start, 1) / fps
        cps = cue.chars / seconds
        if cps > profile.max_chars_per_second + 1e-9:
            report(
                "reading_speed",
                number,
                round(cps, 2),
                profile.max_chars_per_second,
                f"{cue.chars} chars in {seconds:.3f} s",
            )
        if end - start < profile.min_duration_frames(fps):
            report(
                "min_duration",
                number,
                round(seconds, 3),
                round(profile.min_duration_s, 3),
                f"{end - start} frames",
            )
        if end - start > profile.max_duration_frames(fps):
            report("max_duration", number, round(seconds, 3), profile.max_duration_s, f"{end - start} frames")
        near = cuts[bisect.bisect_left(cuts, start - clearance) : bisect.bisect_right(cuts, end + clearance)]
        for cut in near:
            if (
                start < cut < end
                and cut - start > profile.shot_change_clearance_frames
                and end - cut > profile.shot_change_clearance_frames
            ):
                report(
                    "shot_change_crossing",
                    number,
                    round(cut / fps, 3),
                    None,
                    f"shot change at frame {cut} inside frames {start}-{end}",
                )
            for label, at in (("in", start), ("out", end)):
                if 0 < abs(at - cut) <= profile.shot_change_clearance_frames:
                    report(
                        "shot_change_proximity",
                        number,
                        at - cut,
                        profile.shot_change_clearance_frames,
                        f"{label}-time {at - cut:+d} frames from the shot change at frame {cut}",
                    )
        for upper, lower in zip(cue.lines, cue.lines[1:], strict=False):
            why = _forbidden_between(upper, lower, rules)
            if why:
                report("line_break", number, f"{upper} / {lower}", None, why)

    for number in range(1, len(cues)):
        (_, end), (start, _) = frames[number - 1], frames[number]
        gap = start - end
        if gap < profile.min_gap_frames:
            report("min_gap", number, gap, profile.min_gap_frames, f"{gap} frames to cue {number + 1}")
        elif gap <= profile.close_gap_frames and gap > profile.min_gap_frames:
            cut_in_gap = bisect.bisect_right(cuts, start) > bisect.bisect_left(cuts, end)
            start_prev = frames[number - 1][0]
            too_long = start - profile.min_gap_frames - start_prev > profile.max_duration_frames(fps)
            if not cut_in_gap and not too_long:
                report(
                    "gap_not_closed",
                    number,
                    gap,
                    profile.close_gap_frames,
                    f"{gap} frames to cue {number + 1}",
                )
        why = _forbidden_between(cues[number - 1].text, cues[number].text, rules)
        if why:
            report("cue_break", number, why, None, f"between cue {number} and cue {number + 1}")

    if words is not None:
        for drift in measure_drift(cues, normalise_words(words)):
            if drift.drift_s > profile.max_timing_drift_s + 1e-9:
                report(
                    "timing_drift",
                    drift.cue_number,
                    round(drift.drift_s, 3),
                    profile.max_timing_drift_s,
                    f"in {drift.in_drift_s:+.3f} s, out {drift.out_drift_s:.3f} s early",
                )

    order = {rule: position for position, rule in enumerate(RULES)}
    return sorted(found, key=lambda v: (v.cue_number, order[v.rule]))


def _forbidden_between(before: str, after: str, rules: LanguageRules) -> str | None:
    before_words, after_words = before.split(), after.split()
    if not before_words or not after_words:
        return None
    return forbidden_break(before_words[-1], after_words[0], rules)
