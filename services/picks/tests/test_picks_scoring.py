"""Scoring, line completeness, audio levels, keyframe hashes and duplicate grouping (pure logic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rushes_picks.audio_levels import measure_levels
from rushes_picks.delivery import count_restarts, read_delivery
from rushes_picks.fingerprint import KeyframeUnreadable, difference_hash, hash_distance, text_similarity
from rushes_picks.presets import PresetError, for_tagging_preset, load_presets
from rushes_picks.redundancy import Candidate, duplicate_groups
from rushes_picks.scoring import TakeEvidence, score_take
from rushes_picks.synthetic import keyframe_jpeg, shot_values, words

PRESET = load_presets().get("drama")
LINE = "I never wanted any of this to happen"


def test_a_clean_take_outscores_a_soft_one_and_a_flubbed_one() -> None:
    clean = score_take(TakeEvidence(0, 4.0, shot_values(), words(LINE, 0.5)), PRESET)
    soft = score_take(TakeEvidence(0, 4.0, shot_values(soft=True), words(LINE, 0.5)), PRESET)
    flubbed = score_take(
        TakeEvidence(0, 4.0, shot_values(), words("I never I never wanted any of this to happen", 0.3)),
        PRESET,
    )
    assert clean.score > soft.score and clean.score > flubbed.score
    assert "complete line" in clean.reasons
    assert "soft focus" in soft.reasons and "soft focus" not in clean.reasons
    assert any(r.startswith("restart: 'i never'") for r in flubbed.reasons)
    assert clean.verdict == "usable" and 0.0 <= clean.confidence <= 1.0
    assert clean.components["focus"] > soft.components["focus"]


def test_clipped_highlights_and_low_confidence_are_named() -> None:
    result = score_take(TakeEvidence(0, 3.0, shot_values(exposure="over", clipped_pct=6.0)), PRESET)
    assert "overexposed" in result.reasons and "highlights clipped" in result.reasons
    # Without a transcript or audio, much of what the preset weighs is unknown: send it to review.
    bare = score_take(TakeEvidence(0, 3.0, {"sharpness": shot_values()["sharpness"]}), PRESET)
    assert bare.needs_review and "low confidence: to review" in bare.reasons
    assert bare.confidence < result.confidence


def test_a_take_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        score_take(TakeEvidence(2.0, 2.0), PRESET)


def test_restarts_fillers_and_cut_offs() -> None:
    assert count_restarts(["i", "i", "want", "to"]) == (1, ["i"])
    assert count_restarts(["we", "went", "we", "went", "home"]) == (1, ["we went"])
    assert count_restarts(["wa-", "walking", "home"]) == (1, ["wa-"])
    assert count_restarts(["very", "good", "indeed"]) == (0, [])
    cut_off = read_delivery(words("and then we left", 0.0), 0.0, 10.0)
    assert cut_off is not None and cut_off.cut_off_start and not cut_off.complete
    umm = read_delivery(words("um I think so", 1.0), 0.0, 10.0)
    assert umm is not None and umm.fillers == 1 and "1 filler word" in umm.reasons
    whole = read_delivery(words("I think so", 1.0), 0.0, 10.0)
    assert whole is not None and whole.complete and whole.reasons[0] == "complete line"
    assert read_delivery([], 0.0, 5.0) is None


def test_audio_levels_report_loudness_and_clipping() -> None:
    rate = 16000
    t = np.arange(rate * 2) / rate
    tone = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)  # RMS 0.0707 = -23 dBFS
    levels = measure_levels(tone, rate, 0.0, 2.0)
    assert levels is not None and -23.5 < levels.rms_dbfs < -22.5 and levels.clipped_fraction == 0.0
    clipped = np.clip(tone * 30, -1.0, 1.0)
    hot = measure_levels(clipped, rate, 0.0, 2.0)
    assert hot is not None and hot.clipped_fraction > 0.3
    scored = score_take(TakeEvidence(0, 2.0, shot_values(), audio=hot), PRESET)
    assert "audio clipped" in scored.reasons
    assert measure_levels(tone, rate, 5.0, 6.0) is None  # past the end of the audio
    with pytest.raises(ValueError, match="sample_rate"):
        measure_levels(tone, 0, 0.0, 1.0)


def test_keyframe_hash_is_close_for_the_same_setup_and_far_for_another() -> None:
    same = hash_distance(difference_hash(keyframe_jpeg(1)), difference_hash(keyframe_jpeg(1, blur=2)))
    other = hash_distance(difference_hash(keyframe_jpeg(1)), difference_hash(keyframe_jpeg(2)))
    assert same is not None and other is not None
    assert same <= 10 < other
    assert hash_distance("", "00ff") is None
    with pytest.raises(KeyframeUnreadable):
        difference_hash(b"not a jpeg")


def test_transcript_similarity_forgives_restarts_but_not_another_line() -> None:
    restart_sim = text_similarity(LINE, "I never I never wanted any of this to happen")
    assert restart_sim is not None and restart_sim > 0.8
    other_line = text_similarity(LINE, "Where were you last night")
    assert other_line is not None and other_line < 0.3
    assert text_similarity("", LINE) is None


def test_duplicates_group_transitively_and_independently_of_order() -> None:
    rules = PRESET.redundancy
    h = difference_hash(keyframe_jpeg(7))
    far = difference_hash(keyframe_jpeg(8))
    takes = [
        Candidate(key=(1,), keyframe_hash=h, text=LINE, score=0.6),
        Candidate(key=(2,), keyframe_hash=h, text="I never I never wanted any of this to happen", score=0.5),
        Candidate(key=(3,), keyframe_hash=h, text=LINE, score=0.9),
        Candidate(key=(4,), keyframe_hash=far, text="Where were you last night", score=0.8),
        Candidate(key=(5,), keyframe_hash=far, text="", score=0.8),
    ]
    groups = duplicate_groups(takes, rules)
    assert [[c.key for c in g] for g in groups] == [[(3,), (1,), (2,)]]
    assert duplicate_groups(list(reversed(takes)), rules) == groups


def test_presets_are_validated(tmp_path: Path) -> None:
    book = load_presets()
    assert book.default in book.presets and for_tagging_preset(book, "nonesuch").name == book.default
    assert for_tagging_preset(book, "drama").name == "drama"
    with pytest.raises(PresetError, match="unknown picks preset"):
        book.get("nonesuch")

    def load(text: str) -> object:
        path = tmp_path / "presets.yaml"
        path.write_text(text)
        return load_presets(path)

    with pytest.raises(PresetError, match="unknown components"):
        load("default: a\npresets:\n  a: {weights: {charisma: 1.0}}\n")
    with pytest.raises(PresetError, match="default picks preset 'b'"):
        load("default: b\npresets:\n  a: {}\n")
    with pytest.raises(PresetError, match="review_below"):
        load("default: a\npresets:\n  a: {review_below: 2}\n")
