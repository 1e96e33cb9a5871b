"""Cue building: every profile rule checked on every produced file (SRT, WebVTT, TTML read back),
for synthetic word streams and the real forced-alignment timings of the development set."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import pytest
from rushes_asr.subtitles import (
    Cue,
    SubtitleInputError,
    SubtitleProfile,
    Violation,
    Word,
    build_cues,
    export_all,
    load_alignment_json,
    measure_drift,
    parse_subtitles,
    subtitle_profile,
    validate_cues,
)
from rushes_asr.subtitles.language import rules_for
from rushes_asr.subtitles.synthetic import synthetic_speech

DEV_SET = Path(__file__).resolve().parents[3].parent / "shared" / "eval" / "dev"

SENTENCES = [
    "Good evening and welcome to the programme.",
    "Tonight we travel to the north of Scotland, where the weather has been unusually kind this spring.",
    "Our reporter Mary Jones has spent three weeks with the fishermen of the Moray Firth.",
    "The boats leave before dawn, in the dark, and they do not return until the hold is full.",
    "Is it worth it?",
    "Nobody here would give you a straight answer to that question, not even the harbour master.",
    "Yes.",
    "Prices at the market in Aberdeen have fallen by a third since the winter, and the crews are worried.",
    "John Smith, who has fished these waters for forty years, says the young ones are leaving for the oil rigs.",
    "We asked him why he stays.",
    "Because the sea is the only thing I know, he told us, and because my father did the same.",
]


def monologue(sentences: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(SENTENCES) for _ in range(sentences))


def check_every_file(
    cues: list[Cue],
    profile: SubtitleProfile,
    *,
    fps: float = 25.0,
    shot_changes_s: list[float] | None = None,
    words: list[Word] | None = None,
) -> dict[str, list[Violation]]:
    """Violations found in what was built and in each delivered file read back; the files must
    carry exactly the built cues (times to the millisecond, same lines)."""
    found = {"built": validate_cues(cues, profile, fps=fps, shot_changes_s=shot_changes_s, words=words)}
    for name, document in export_all(cues, language="en").items():
        parsed = parse_subtitles(document, name)
        assert [c.lines for c in parsed] == [c.lines for c in cues], name
        for a, b in zip(parsed, cues, strict=True):
            assert math.isclose(a.start_s, b.start_s, abs_tol=6e-4) and math.isclose(
                a.end_s, b.end_s, abs_tol=6e-4
            )
        found[name] = validate_cues(parsed, profile, fps=fps, shot_changes_s=shot_changes_s, words=words)
    return found


def assert_clean(found: dict[str, list[Violation]]) -> None:
    for name, violations in found.items():
        assert violations == [], f"{name}: {violations}"


def spoken_text(words: list[Word]) -> str:
    return " ".join(w.text.strip() for w in words)


def shown_text(cues: list[Cue]) -> str:
    return " ".join(c.text for c in cues)


def test_long_monologue_meets_every_rule_in_every_file() -> None:
    words = synthetic_speech(monologue(120, seed=7), chars_per_second=13.0, seed=7)
    profile = subtitle_profile("adult")
    cues = build_cues(words, profile)
    assert words[-1].end_s > 300  # five minutes and more of speech
    assert shown_text(cues) == spoken_text(words)  # nothing lost, nothing added, in order
    assert_clean(check_every_file(cues, profile, words=words))
    assert all(c.start_s * 25 == pytest.approx(round(c.start_s * 25)) for c in cues)  # whole frames
    # Most cues end where a sentence or clause ends, not mid-phrase.
    ends_clause = sum(c.text[-1] in ".?!," for c in cues)
    assert ends_clause / len(cues) > 0.7
    assert all(len(c.lines) == 1 for c in cues if len(c.text) <= profile.max_chars_per_line)


def test_text_that_fits_one_line_stays_on_one_line_and_sentences_break_lines() -> None:
    words = synthetic_speech("Is it worth it? Yes. We asked him why he stays.", chars_per_second=12.0)
    (cue,) = build_cues(words)
    assert cue.lines == ("Is it worth it? Yes.", "We asked him why he stays.")
    words = synthetic_speech("Is it worth it? Yes.", chars_per_second=12.0)
    assert [c.lines for c in build_cues(words)] == [("Is it worth it? Yes.",)]


def test_children_profile_reads_slower_and_still_meets_its_rules() -> None:
    words = synthetic_speech(monologue(30, seed=3), chars_per_second=10.0, seed=3)
    adult, children = subtitle_profile("adult"), subtitle_profile("children")
    assert children.max_chars_per_second == 13.0
    child_cues = build_cues(words, children)
    assert_clean(check_every_file(child_cues, children, words=words))
    assert max(c.chars / c.duration_s for c in child_cues) <= 13.0 + 1e-6
    # The same speech at the adult rate has cues that children could not read in time.
    faster = synthetic_speech(monologue(30, seed=3), chars_per_second=16.0, seed=3)
    assert validate_cues(build_cues(faster, adult), adult, words=faster) == []
    assert any(v.rule == "reading_speed" for v in validate_cues(build_cues(faster, children), children))


def test_speech_too_fast_to_read_is_reported_in_every_file_not_hidden() -> None:
    words = synthetic_speech(monologue(20, seed=11), chars_per_second=24.0, sentence_pause_s=0.1, seed=11)
    profile = SubtitleProfile()
    cues = build_cues(words, profile)
    assert shown_text(cues) == spoken_text(words)
    found = check_every_file(cues, profile, words=words)
    for name, violations in found.items():
        rules = {v.rule for v in violations}
        assert "reading_speed" in rules, name
        # Only the unavoidable rule fails: timing, lines, gaps and breaks are still right.
        assert rules == {"reading_speed"}, (name, violations)
        for v in violations:
            assert isinstance(v.value, float) and v.value > profile.max_chars_per_second
    assert [v.cue_number for v in found["srt"]] == [v.cue_number for v in found["built"]]


def test_no_line_or_cue_ends_on_an_article_or_splits_a_name() -> None:
    # Built so that filling lines greedily would break after "the" and between "Mary" and "Jones".
    text = (
        "Yesterday afternoon in the village we finally met the famous Mary Jones and "
        "her brother Peter Jones near the old harbour wall where the boats are kept."
    )
    words = synthetic_speech(text, chars_per_second=12.0, whisper_spacing=True)
    profile = SubtitleProfile(max_chars_per_line=32)
    cues = build_cues(words, profile)
    rules = rules_for("en")
    for cue in cues:
        for upper, lower in zip(cue.lines, cue.lines[1:], strict=False):
            last, first = upper.split()[-1], lower.split()[0]
            assert last.lower() not in rules.determiners, cue.lines
            assert (last, first) not in {("Mary", "Jones"), ("Peter", "Jones")}, cue.lines
    for cue in cues[:-1]:
        assert cue.text.split()[-1].lower() not in rules.determiners
    assert_clean(check_every_file(cues, profile, words=words))


def test_line_breaks_prefer_punctuation() -> None:
    words = synthetic_speech(
        "Prices at the market have fallen, and the crews are worried.", chars_per_second=12.0
    )
    (cue,) = build_cues(words)
    assert cue.lines == ("Prices at the market have fallen,", "and the crews are worried.")


def test_shot_change_inside_a_sentence_splits_the_cue_on_the_cut() -> None:
    words = synthetic_speech(
        "The boats leave before dawn in the dark and they do not return until the hold is full of fish.",
        chars_per_second=13.0,
    )
    # A cut in the gap after "dark", mid-sentence, with no punctuation to help.
    dark = next(i for i, w in enumerate(words) if w.text.strip() == "dark")
    cut = round((words[dark].end_s + words[dark + 1].start_s) / 2 * 25) / 25
    profile = SubtitleProfile()
    cues = build_cues(words, profile, shot_changes_s=[cut])
    assert_clean(check_every_file(cues, profile, shot_changes_s=[cut], words=words))
    cut_frame = round(cut * 25)
    assert any(round(c.start_s * 25) == cut_frame for c in cues), "the next cue starts on the cut"
    for cue in cues:
        start, end = round(cue.start_s * 25), round(cue.end_s * 25)
        assert not start < cut_frame < end
        assert end == cut_frame or abs(end - cut_frame) > profile.shot_change_clearance_frames


SEA = "We asked him why he stays. Because the sea is the only thing I know, he told us."


def test_shot_change_inside_a_word_and_near_cue_ends() -> None:
    words = synthetic_speech(SEA, chars_per_second=12.0)
    inside = next(w for w in words if w.text.strip() == "thing")
    cuts = [
        round((inside.start_s + 0.03) * 25) / 25,  # just after a word starts
        round((words[5].end_s + 0.2) * 25) / 25,  # shortly after the first sentence ends
    ]
    profile = SubtitleProfile()
    cues = build_cues(words, profile, shot_changes_s=cuts)
    assert_clean(check_every_file(cues, profile, shot_changes_s=cuts, words=words))
    assert any(c.text.startswith("thing") and round(c.start_s * 25) == round(cuts[0] * 25) for c in cues)


def test_a_cut_that_forces_a_bad_break_is_reported_not_hidden() -> None:
    words = synthetic_speech(SEA, chars_per_second=12.0)
    only = next(w for w in words if w.text.strip() == "only")
    cut = round((only.start_s + 0.03) * 25) / 25  # "the | only": the cut leaves no better place
    cues = build_cues(words, shot_changes_s=[cut])
    for name, violations in check_every_file(
        cues, SubtitleProfile(), shot_changes_s=[cut], words=words
    ).items():
        assert [(v.rule, v.value) for v in violations] == [
            ("cue_break", "break after the determiner 'the'")
        ], name


def test_small_gaps_are_closed_and_short_cues_lengthened() -> None:
    words = [
        Word(" Yes.", 1.0, 1.2),
        Word(" Come", 1.6, 1.9),
        Word(" here,", 1.95, 2.3),
        Word(" now.", 2.35, 2.6),
        Word(" Later.", 8.0, 8.3),
    ]
    profile = SubtitleProfile(max_chars_per_line=12)
    cues = build_cues(words, profile)
    assert_clean(check_every_file(cues, profile, words=words))
    for cue in cues:
        assert cue.duration_s >= 5 / 6 - 1e-9
    for before, after in itertools.pairwise(cues):
        gap = round((after.start_s - before.end_s) * 25)
        assert gap == 2 or gap > profile.close_gap_frames


def test_leading_spaces_and_lone_punctuation_from_whisper_are_cleaned() -> None:
    words = [Word(" Hello", 0.0, 0.4), Word(",", 0.4, 0.4), Word(" world", 0.5, 0.9), Word(" !", 0.9, 0.95)]
    (cue,) = build_cues(words)
    assert cue.lines == ("Hello, world!",)
    words = [Word(" Well", 0.0, 0.4), Word(" -", 0.4, 0.45), Word(" maybe.", 0.5, 0.9)]
    (cue,) = build_cues(words)
    assert cue.lines == ("Well - maybe.",)


@pytest.mark.parametrize("fps", [23.976, 24.0, 29.97, 50.0])
def test_other_frame_rates_meet_every_rule(fps: float) -> None:
    words = synthetic_speech(monologue(15, seed=5), chars_per_second=13.0, seed=5)
    cuts = [words[20].end_s + 0.01, words[61].start_s + 0.05]
    profile = SubtitleProfile()
    cues = build_cues(words, profile, fps=fps, shot_changes_s=cuts)
    assert_clean(check_every_file(cues, profile, fps=fps, shot_changes_s=cuts, words=words))


@pytest.mark.parametrize("name", ["ss01_0870", "ss01_0880"])
def test_real_forced_alignment_timings_make_cues_that_pass_every_rule(name: str) -> None:
    path = DEV_SET / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"development set not present at {DEV_SET}")
    words = load_alignment_json(path)
    reference = (DEV_SET / f"{name}.txt").read_text(encoding="utf-8").split()
    assert [w.text for w in words] == reference  # variant marks and silences removed
    profile = SubtitleProfile()
    cues = build_cues(words, profile)
    assert shown_text(cues) == " ".join(reference)
    assert_clean(check_every_file(cues, profile, words=words))
    # In-times come from the alignment: each cue starts within half a frame of its first word.
    drifts = measure_drift(cues, words)
    assert len(drifts) == len(cues) and all(abs(d.in_drift_s) <= 0.02 for d in drifts)


@pytest.mark.parametrize("seed", range(12))
def test_whisper_like_timing_jitter_still_meets_every_rule(seed: int) -> None:
    """Overlapping and zero-length words, lone punctuation, no pauses: what a recogniser hands
    out on a bad day. Speech at readable rates must still give cues that break no rule."""
    rng = random.Random(seed)
    fps = rng.choice([23.976, 25.0, 29.97])
    clean = synthetic_speech(
        monologue(8, seed),
        chars_per_second=rng.uniform(11, 15),
        word_gap_s=0.0,
        sentence_pause_s=rng.uniform(0.0, 0.8),
        clause_pause_s=rng.uniform(0.0, 0.3),
        seed=seed,
    )
    words: list[Word] = []
    for word in clean:
        end = max(word.start_s, word.end_s + rng.choice([0.0, 0.0, 0.05, 0.1, -0.05]))
        words.append(Word(word.text, word.start_s, end))
        if rng.random() < 0.05:
            words.append(Word(" -", end, end))
    profile = SubtitleProfile()
    cues = build_cues(words, profile, fps=fps)
    assert_clean(check_every_file(cues, profile, fps=fps, words=words))


def test_empty_word_list_gives_no_cues() -> None:
    assert build_cues([]) == []


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        ([Word("a", 1.0, 1.2), Word("b", 0.3, 0.7)], "word 1 .* before the word before it"),
        ([Word("a", 1.0, 0.9)], "word 0 .* end >= start"),
        ([Word("a", -1.0, 0.5)], "times must be >= 0"),
        ([Word("a", float("nan"), 0.5)], "non-finite"),
        (["a"], "word 0 is a str"),
    ],
)
def test_bad_words_are_refused_by_position(words: list[Word], needle: str) -> None:
    with pytest.raises(SubtitleInputError, match=needle):
        build_cues(words)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"fps": 0}, "fps must be"),
        ({"fps": float("inf")}, "fps must be"),
        ({"shot_changes_s": [1.0, -2.0]}, "shot change 1 is -2.0"),
        ({"shot_changes_s": "12"}, "sequence of times"),
    ],
)
def test_bad_frame_rate_or_shot_changes_are_refused(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(SubtitleInputError, match=needle):
        build_cues([Word("a", 0.0, 0.5)], **kwargs)  # type: ignore[arg-type]


def test_profiles_are_validated() -> None:
    assert subtitle_profile("adult").max_chars_per_second == 17.0
    assert subtitle_profile("adult", max_chars_per_line=37).max_chars_per_line == 37
    with pytest.raises(SubtitleInputError, match="known: adult, children"):
        subtitle_profile("teenagers")
    with pytest.raises(SubtitleInputError, match="max_chars_per_line"):
        subtitle_profile("adult", max_chars_per_line=0)
    with pytest.raises(SubtitleInputError, match="must exceed min_duration_s"):
        subtitle_profile("adult", max_duration_s=0.5)
    with pytest.raises(SubtitleInputError, match="shot_change_clearance_frames must be below"):
        subtitle_profile("adult", shot_change_clearance_frames=2)
    with pytest.raises(SubtitleInputError, match="Extra inputs"):
        subtitle_profile("adult", colour="yellow")


# --- the validator finds every kind of fault (hand-made cues, 25 fps, adult profile) ---------------

GOOD = Cue(1.0, 3.0, ("A perfectly ordinary line",))


@pytest.mark.parametrize(
    ("cues", "kwargs", "rule", "value"),
    [
        ([Cue(1.0, 4.0, ("x" * 43,))], {}, "chars_per_line", 43),
        ([Cue(1.0, 4.0, ("one", "two", "three"))], {}, "lines", 3),
        ([Cue(1.0, 2.0, ("Twenty characters!!!",))], {}, "reading_speed", 20.0),
        ([Cue(1.0, 1.8, ("Hi",))], {}, "min_duration", 0.8),
        ([Cue(1.0, 8.2, ("Hello there",))], {}, "max_duration", 7.2),
        ([GOOD, Cue(3.04, 5.0, ("Next",))], {}, "min_gap", 1),
        ([GOOD, Cue(3.4, 5.0, ("Next",))], {}, "gap_not_closed", 10),
        ([GOOD], {"shot_changes_s": [2.0]}, "shot_change_crossing", 2.0),
        ([GOOD], {"shot_changes_s": [3.04]}, "shot_change_proximity", -1),
        ([Cue(1.0, 4.0, ("We met the", "famous cook"))], {}, "line_break", "We met the / famous cook"),
        ([Cue(1.0, 4.0, ("We met Mary", "Jones today"))], {}, "line_break", "We met Mary / Jones today"),
        (
            [Cue(1.0, 3.0, ("We saw a",)), Cue(3.08, 5.0, ("big fish",))],
            {},
            "cue_break",
            "break after the determiner 'a'",
        ),
        ([Cue(1.0, 3.0, ("   ",))], {}, "empty_text", 0),
        ([GOOD], {"words": [Word("A", 1.3, 1.4), Word("line", 2.8, 3.0)]}, "timing_drift", 0.3),
    ],
)
def test_validator_reports_each_rule(
    cues: list[Cue], kwargs: dict[str, object], rule: str, value: object
) -> None:
    violations = validate_cues(cues, SubtitleProfile(), **kwargs)  # type: ignore[arg-type]
    matching = [v for v in violations if v.rule == rule]
    assert len(matching) == 1, violations
    assert matching[0].value == value
    assert [v for v in violations if v.rule != rule] == [], violations


def test_validator_accepts_a_cut_in_a_gap_and_a_cue_ending_on_a_cut() -> None:
    cues = [GOOD, Cue(3.4, 5.0, ("Next one",))]
    assert validate_cues(cues, shot_changes_s=[3.0]) == []  # ends on the cut; the gap has a cut
    assert validate_cues(cues, shot_changes_s=[3.2]) == []  # the cut is in the gap, clear of both


def test_validator_word_rules_follow_the_language() -> None:
    cue = [Cue(1.0, 4.0, ("Wir trafen den", "berühmten Koch"))]
    assert [v.rule for v in validate_cues(cue, language="de")] == ["line_break"]
    # German capitalises every noun: capitals say nothing about names there.
    assert validate_cues([Cue(1.0, 4.0, ("Das Haus", "Berlin ist groß"))], language="de") == []
    # A language without word lists gets the length and timing rules only.
    assert validate_cues([Cue(1.0, 4.0, ("the", "cook"))], language="xx") == []


def test_validator_refuses_cues_out_of_order() -> None:
    with pytest.raises(SubtitleInputError, match="cue 2 starts before cue 1"):
        validate_cues([Cue(5.0, 6.0, ("b",)), Cue(1.0, 2.0, ("a",))])
