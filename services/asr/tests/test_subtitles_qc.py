"""Subtitle QC: accuracy metrics on known examples, the report and its verdicts, the reference
transcript loader, hallucination flags and the localization check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rushes_asr.subtitles import (
    FIELD,
    STUDIO,
    Cue,
    ReferenceTranscriptError,
    SubtitleInputError,
    SubtitleProfile,
    Word,
    build_cues,
    build_qc_report,
    check_localization,
    find_repetition_loops,
    find_text_over_silence,
    load_reference_transcript,
    normalise_text,
    punctuation_accuracy,
    word_error_rate,
    words_from_mappings,
)
from rushes_asr.subtitles.synthetic import synthetic_speech

TEXT = (
    "Good evening and welcome to the programme. Tonight we travel to the north of Scotland, "
    "where the weather has been kind. Is it worth it? Nobody here would say."
)

# --- accuracy metrics -------------------------------------------------------------------------------


def test_normaliser_folds_case_and_drops_punctuation() -> None:
    assert normalise_text("  Well, DON'T   stop — now!  ") == "well dont stop now"


def test_wer_counts_edits_after_normalising() -> None:
    assert word_error_rate("The cat sat on the mat.", "the cat, sat on the mat").wer == 0.0
    result = word_error_rate("the cat sat on the mat", "cat sit on the mat today")
    assert (result.substitutions, result.deletions, result.insertions) == (1, 1, 1)
    assert result.wer == pytest.approx(3 / 6, abs=1e-4)
    assert result.reference_words == 6
    assert word_error_rate("one two three", "").wer == 1.0
    with pytest.raises(SubtitleInputError, match="no words"):
        word_error_rate(" ... ", "anything")


def test_punctuation_accuracy_on_aligned_words() -> None:
    perfect = punctuation_accuracy("Hello, world. How are you?", "hello, world. how are you?")
    assert perfect is not None and (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)
    # One mark missed (","), one wrong ("!" for "."), one correct ("?").
    score = punctuation_accuracy("Hello, world. How are you?", "hello world! how are you?")
    assert score is not None
    assert (score.reference_marks, score.hypothesis_marks, score.correct) == (3, 2, 1)
    assert score.precision == 0.5 and score.recall == pytest.approx(0.3333, abs=1e-4)
    assert score.f1 == pytest.approx(0.4, abs=1e-4)
    # A wrong word keeps its slot: marks are compared on substitutions too; extra words are not.
    score = punctuation_accuracy("Yes, we can.", "So yes, we could.")
    assert score is not None and score.correct == 2 and score.aligned_words == 3
    # Full-width and ellipsis forms count as their plain marks.
    score = punctuation_accuracy("Hello\uff0c world\u3002", "hello, world\u2026")
    assert score is not None and score.f1 == 1.0
    # An unpunctuated reference cannot judge punctuation.
    assert punctuation_accuracy("hello world", "Hello, world.") is None


# --- the report ---------------------------------------------------------------------------------


def test_clean_subtitles_pass_studio_and_field_targets() -> None:
    words = synthetic_speech(TEXT, chars_per_second=12.0)
    cues = build_cues(words)
    report = build_qc_report(cues, words=words, reference_text=TEXT)
    assert report.style_violations == 0
    assert report.wer is not None and report.wer.wer == 0.0
    assert report.punctuation is not None and report.punctuation.f1 == 1.0
    assert report.max_drift_s is not None and report.max_drift_s <= 0.25
    for target in ("studio", "field"):
        verdict = report.verdicts[target]
        assert verdict.passed and verdict.complete
        assert {name: check.status for name, check in verdict.checks.items()} == {
            "wer": "pass",
            "punctuation_f1": "pass",
            "timing_drift_s": "pass",
            "style_violations": "pass",
        }
    document = report.to_dict()
    assert json.loads(json.dumps(document)) == document  # JSON-able as it is
    assert set(document["rules"]) >= {
        "chars_per_line",
        "reading_speed",
        "shot_change_crossing",
        "timing_drift",
    }
    assert all(rule["count"] == 0 and rule["failures"] == [] for rule in document["rules"].values())
    assert document["rules"]["chars_per_line"]["limit"] == 42
    assert document["timing_drift"]["cues_measured"] == len(cues)


def test_a_wer_between_the_targets_passes_field_but_not_studio() -> None:
    words = synthetic_speech(TEXT, chars_per_second=12.0)
    cues = build_cues(words)
    # 29 reference words, 2 substituted: WER 6.9 %, between studio's 6 % and field's 8 %.
    reference = TEXT.replace("kind", "mild").replace("Nobody", "Anybody")
    report = build_qc_report(cues, words=words, reference_text=reference)
    assert report.wer is not None and report.wer.wer == pytest.approx(2 / 29, abs=1e-4)
    assert report.verdicts["studio"].checks["wer"].status == "fail"
    assert not report.verdicts["studio"].passed
    assert report.verdicts["field"].passed


def test_faults_are_counted_per_rule_with_the_failing_cues() -> None:
    words = [Word(" Hello", 1.0, 1.4), Word(" there.", 1.5, 1.9), Word(" Bye.", 2.0, 2.3)]
    cues = [
        Cue(1.0, 1.9, ("Hello there.",)),
        Cue(1.92, 2.3, ("Bye.",)),  # under 2 frames after cue 1, and too short
    ]
    report = build_qc_report(cues, words=words, shot_changes_s=[1.2])
    document = report.to_dict()
    rules = document["rules"]
    assert rules["min_gap"]["count"] == 1 and rules["min_gap"]["failures"][0]["cue_number"] == 1
    assert rules["min_duration"]["count"] == 1 and rules["min_duration"]["failures"][0]["cue_number"] == 2
    assert rules["shot_change_crossing"]["failures"] == [
        {"cue_number": 1, "value": 1.2, "detail": "shot change at frame 30 inside frames 25-48"}
    ]
    assert report.style_violations == sum(r["count"] for r in rules.values()) - rules["timing_drift"]["count"]
    assert not report.verdicts["studio"].passed
    assert report.verdicts["studio"].checks["style_violations"].value == report.style_violations
    # No reference: WER and punctuation are not measured, and the verdict says it is incomplete.
    assert report.verdicts["field"].checks["wer"].status == "not_measured"
    assert not report.verdicts["field"].complete


def test_timing_drift_beyond_the_field_target_fails_both() -> None:
    words = synthetic_speech("We asked him why he stays.", chars_per_second=12.0)
    (cue,) = build_cues(words)
    late = Cue(cue.start_s + 0.4, cue.end_s + 0.4, cue.lines)
    report = build_qc_report([late], words=words)
    assert report.max_drift_s == pytest.approx(0.4, abs=0.03)
    assert report.violations("timing_drift")[0]["cue_number"] == 1
    assert report.verdicts["field"].checks["timing_drift_s"].status == "fail"
    assert report.style_violations == 0  # drift has its own target, not a style rule
    assert (STUDIO.max_timing_drift_s, FIELD.max_timing_drift_s) == (0.25, 0.30)


def test_report_flags_hallucinations_without_failing_the_verdict() -> None:
    words = synthetic_speech("Thank you. Thank you. Thank you. Goodbye now.", chars_per_second=12.0)
    cues = build_cues(words)
    speech = [(0.0, words[5].end_s)]  # nobody speaks after the last "thank you"
    report = build_qc_report(cues, words=words, speech_intervals=speech)
    assert report.repetition_loops is not None and len(report.repetition_loops) == 1
    assert report.text_over_silence is not None and report.text_over_silence[0].text == "Goodbye now."
    hallucination = report.to_dict()["hallucination"]
    assert hallucination["repetition_loops"][0]["ngram"] == ["thank", "you"]
    assert report.verdicts["studio"].checks["style_violations"].status == "pass"


def test_words_from_the_asset_record_are_accepted() -> None:
    words = words_from_mappings([{"word": " Hello", "start_s": 0.1, "end_s": 0.5, "probability": 0.9}])
    assert words == [Word(" Hello", 0.1, 0.5, 0.9)]
    with pytest.raises(SubtitleInputError, match="lacks a numeric start_s"):
        words_from_mappings([{"word": "x", "start_s": "soon", "end_s": 1}])


# --- reference transcripts -------------------------------------------------------------------------


def test_reference_loader_reads_utf8_with_or_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "ref.txt"
    path.write_bytes("\ufeffÇa va, Zoë?".encode())
    assert load_reference_transcript(path) == "Ça va, Zoë?"
    assert load_reference_transcript("Ça va".encode()) == "Ça va"


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ("Ça va".encode("latin-1"), r"reference transcript is not valid UTF-8 \(byte 0\)"),
        (b"hello " + "Zoë".encode("cp1252"), r"not valid UTF-8 \(byte 8\)"),
        (b"\xef\xbb\xbfok \xff", r"not valid UTF-8 \(byte 6\)"),
        ("hello".encode("utf-16-le"), r"NUL character \(byte 1\).*UTF-16"),
        ("hello".encode("utf-16"), r"not valid UTF-8 \(byte 0\)"),
        (b"  \n\t ", "reference transcript is empty"),
    ],
)
def test_reference_loader_refuses_wrong_encodings_clearly(data: bytes, needle: str, tmp_path: Path) -> None:
    with pytest.raises(ReferenceTranscriptError, match=needle):
        load_reference_transcript(data)
    path = tmp_path / "ref.txt"
    path.write_bytes(data)
    with pytest.raises(ReferenceTranscriptError, match=needle):
        load_reference_transcript(path)


def test_reference_loader_refuses_missing_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(ReferenceTranscriptError, match="cannot read reference transcript"):
        load_reference_transcript(tmp_path / "absent.txt")
    with pytest.raises(ReferenceTranscriptError, match="over the 10-byte limit"):
        load_reference_transcript(b"x" * 11, max_bytes=10)


# --- hallucination guards --------------------------------------------------------------------------


def _words(text: str) -> list[Word]:
    return synthetic_speech(text, chars_per_second=12.0)


def test_repetition_loops_are_found_with_their_word_ranges() -> None:
    words = _words("So I went home. Thank you. Thank you. Thank you. Thank you. And then the the the end.")
    loops = find_repetition_loops(words)
    assert [(loop.first_word, loop.end_word, loop.ngram, loop.repeats) for loop in loops] == [
        (4, 12, ("thank", "you"), 4),
        (14, 17, ("the",), 3),
    ]
    assert loops[0].start_s == words[4].start_s and loops[0].end_s == words[11].end_s
    # Twice is speech, not a loop; a longer phrase repeated three times is one.
    assert find_repetition_loops(_words("Thank you. Thank you. Goodbye.")) == []
    phrase = "I will be back soon. " * 3
    (loop,) = find_repetition_loops(_words(phrase))
    assert loop.ngram == ("i", "will", "be", "back", "soon") and loop.repeats == 3
    with pytest.raises(SubtitleInputError, match="min_repeats"):
        find_repetition_loops(words, min_repeats=1)


def test_text_over_silence_is_found_as_runs() -> None:
    words = _words("Hello there. Subscribe to my channel. We begin.")
    speech = [(0.0, words[1].end_s), (words[6].start_s, words[7].end_s + 1.0)]
    (run,) = find_text_over_silence(words, speech)
    assert (run.first_word, run.end_word, run.text) == (2, 6, "Subscribe to my channel.")
    # A word just outside a speech interval (within the tolerance) is not flagged.
    edge = [Word("hi", 1.05, 1.3)]
    assert find_text_over_silence(edge, [(0.0, 1.0)]) == []
    assert len(find_text_over_silence(edge, [(0.0, 1.0)], tolerance_s=0.0)) == 1


@pytest.mark.parametrize(
    ("intervals", "needle"),
    [([(2.0, 1.0)], "speech interval 0"), ([(0.0, 1.0), ("a",)], "speech interval 1 is not")],
)
def test_bad_speech_intervals_are_refused(intervals: list[tuple[float, float]], needle: str) -> None:
    with pytest.raises(SubtitleInputError, match=needle):
        find_text_over_silence(_words("Hello."), intervals)


# --- localization ------------------------------------------------------------------------------------

SOURCE = [
    Cue(1.0, 3.0, ("The harbour master",)),
    Cue(3.08, 5.0, ("met the fishermen.",)),
    Cue(6.0, 8.0, ("The harbour is closed.",)),
]
GLOSSARY = {"harbour master": "capitaine du port", "fishermen": "pêcheurs", "harbour": "port"}


def test_a_faithful_translation_passes() -> None:
    french = [
        Cue(1.0, 3.0, ("Le capitaine du port",)),
        Cue(3.08, 5.0, ("a vu les pêcheurs.",)),
        Cue(6.0, 8.0, ("Le port est fermé.",)),
    ]
    report = check_localization(SOURCE, french, GLOSSARY, language="fr")
    # "harbour" inside "harbour master" is part of the longer term, not a use of its own.
    assert report.glossary_uses == 3 and report.glossary_coverage == 1.0
    assert report.timing_mode == "paired" and report.timing_mismatches == []
    assert report.violations == [] and report.passed
    assert json.loads(json.dumps(report.to_dict()))["passed"] is True


def test_translation_faults_are_each_reported() -> None:
    french = [
        Cue(1.0, 3.0, ("Le chef du quai",)),  # glossary term missed
        Cue(3.5, 5.0, ("a vu les pêcheurs.",)),  # in-time moved by 0.42 s
        Cue(6.0, 8.0, ("Le port est fermé depuis ce matin, à cause de", "la tempête qui arrive.")),
    ]
    report = check_localization(SOURCE, french, GLOSSARY, language="fr")
    assert report.glossary_coverage == pytest.approx(2 / 3, abs=1e-4) and not report.passed  # not above 85 %
    assert [(m.source_cue, m.term) for m in report.glossary_misses] == [(1, "harbour master")]
    assert [m.cue_number for m in report.timing_mismatches] == [2]
    assert {v.rule for v in report.violations} == {"chars_per_line", "reading_speed"}


def test_translation_with_a_different_cue_count_is_checked_by_overlap() -> None:
    french = [Cue(1.0, 5.0, ("Le capitaine du port", "a vu les pêcheurs.")), Cue(9.0, 10.0, ("Fin.",))]
    report = check_localization(SOURCE, french, GLOSSARY, language="fr", profile=SubtitleProfile())
    assert report.timing_mode == "overlap"
    assert [(m.side, m.cue_number) for m in report.timing_mismatches] == [("translation", 2), ("source", 3)]
    assert report.glossary_uses == 3 and report.glossary_translated == 2  # cue 3 has no counterpart


def test_localization_refuses_bad_input() -> None:
    with pytest.raises(SubtitleInputError, match="glossary entry"):
        check_localization(SOURCE, SOURCE, {"harbour": ""}, language="fr")
    with pytest.raises(SubtitleInputError, match="no cues"):
        check_localization(SOURCE, [], GLOSSARY, language="fr")
