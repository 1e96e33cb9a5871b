"""The tag taxonomy file: valid, unambiguous, and naming every value tagging writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rushes_library.review_queue import apply_verdict, review_items
from rushes_library.search_index import build_rows, scene_and_take
from rushes_library.state import AssetState
from rushes_library.taxonomy import TaxonomyError, load_taxonomy, parse_taxonomy
from rushes_tagging.analysis.category import CATEGORIES
from rushes_tagging.analysis.shot_type import SHOT_TYPES


def test_every_value_tagging_writes_resolves_in_the_taxonomy() -> None:
    taxonomy = load_taxonomy()
    for value in SHOT_TYPES:
        assert taxonomy.field_value_node("shot_type", value) == value
    for value in CATEGORIES:
        assert taxonomy.field_value_node("category", value) == value
    verdicts = {
        "exposure": ("over", "under", "ok"),
        "sharpness": ("sharp", "soft"),
        "shakiness": ("steady", "shaky"),
        "noise": ("clean", "noisy"),
        "pace": ("slow", "medium", "fast"),
        "mood": ("bright", "dark", "warm", "cool", "tense", "calm", "vivid", "muted"),
        "technical_cues": ("black_frames", "color_bars", "slate"),
    }
    for field, values in verdicts.items():
        for value in values:
            assert taxonomy.field_value_node(field, value) is not None, (field, value)


def test_synonyms_and_ancestors() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.resolve("Close-Up") == "close_up"
    assert taxonomy.resolve("handheld") == "shaky"
    assert taxonomy.ancestors("close_up") == ["framing", "technique"]
    assert taxonomy.field_value_of("pace", "moderate") == "medium"
    assert taxonomy.field_value_node("pace", "medium") == "medium_pace"
    assert taxonomy.resolve("spaceship") is None


@pytest.mark.parametrize(
    ("tree", "fragment"),
    [
        ({"a": {"children": {"a": {}}}}, "appears twice"),
        ({"a": {"synonyms": ["b"]}, "b": {}}, "already the node"),
        ({"a": {"synonyms": ["x"]}, "b": {"synonyms": ["x"]}}, "already a synonym"),
        ({"Bad Name": {}}, "snake_case"),
        ({"a": {"colour": "red"}}, "unknown keys"),
        ({"a": {"fields": ["f"]}, "b": {"fields": ["f"]}}, "claimed by two nodes"),
    ],
)
def test_malformed_taxonomies_are_refused(tree: dict[str, object], fragment: str) -> None:
    with pytest.raises(TaxonomyError, match=fragment):
        parse_taxonomy({"version": 1, "tree": tree})


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("S12_T03_interview.mov", ("12", "3")),
        ("sc4a-tk2.mxf", ("4a", "2")),
        ("scene_7_take_11.mp4", ("7", "11")),
        ("A001_C002.mov", ("", "")),
        ("sunset.mov", ("", "")),
    ],
)
def test_scene_and_take_from_file_names(filename: str, expected: tuple[str, str]) -> None:
    assert scene_and_take(filename) == expected


def _value(value: object, confidence: float, review: bool = False) -> dict[str, object]:
    return {
        "value": value,
        "confidence": confidence,
        "reasons": [],
        "model": "m",
        "model_version": "1",
        "needs_review": review,
    }


def test_index_rows_carry_labels_ancestors_and_the_words_spoken_in_the_shot() -> None:
    state = AssetState(
        asset_id="a" * 32,
        project="p",
        source={"filename": "S1_T2.mov"},
        technical={"duration_s": 10.0, "camera": {"make": "ARRI", "model": "ALEXA"}},
        sections={
            "shots": [
                {"index": 0, "start_s": 0.0, "end_s": 5.0, "values": {"shot_type": _value("close_up", 0.9)}},
                {"index": 1, "start_s": 5.0, "end_s": 10.0, "values": {"mood": _value({"moods": ["calm"]}, 0.4, True)}},
            ],
            "transcript": {"words": [{"word": "hello", "start_s": 1.0}, {"word": "bye", "start_s": 6.0}]},
        },
    )  # fmt: skip
    first, second = build_rows(state, status="complete", created_at=None)
    assert first.labels == ["shot_type:close_up", "tag:close_up", "tag:framing", "tag:technique"]
    assert first.transcript == "hello" and second.transcript == "bye"
    assert (first.scene, first.take, first.camera) == ("1", "2", "ARRI ALEXA")
    assert second.needs_review and second.min_confidence == 0.4 and "calm" in second.label_text
    assert "closeup" in first.label_text  # synonyms make keyword search find "closeup"


def test_review_queue_finds_qc_failures_and_picks_for_review_in_any_section() -> None:
    state = AssetState(
        asset_id="b" * 32,
        sections={
            "shots": [{"index": 0, "values": {"shot_type": _value("wide", 0.2, True)}}],
            "qc": [{"check": "stabilize", "verdict": "fail", "score": 0.3}, {"check": "denoise", "verdict": "pass"}],
            "picks": [{"take": 1, "needs_review": True, "confidence": 0.5, "model": "picks", "model_version": "2"}],
            "transcript": {"text": "hi", "needs_review": True, "confidence": 0.3, "flags": ["repetition_loop"]},
        },
    )  # fmt: skip
    items = {item.item_id: item for item in review_items(state)}
    assert set(items) == {"shots/0/values/shot_type", "qc/0", "picks/0", "transcript"}
    assert items["qc/0"].kind == "qc" and items["qc/0"].field == "stabilize"
    assert items["picks/0"].kind == "picks" and items["picks/0"].model_version == "2"
    assert items["transcript"].reasons == ["repetition_loop"] and items["transcript"].value == "hi"


def test_review_queue_picks_the_most_specific_qc_and_picks_records() -> None:
    score = {
        "value": {"verdict": "usable"},
        "confidence": 0.4,
        "model": "picks",
        "model_version": "3",
        "needs_review": True,
        "reasons": ["close_call"],
    }
    state = AssetState(
        asset_id="c" * 32,
        sections={
            "qc": {"verdict": "fail", "needs_review": True, "renditions": [
                {"fix": "stabilize", "verdict": "fail", "needs_review": True,
                 "shots": [{"index": 0, "verdict": "pass"}, {"index": 1, "verdict": "fail", "ssim": 0.4}]},
                {"fix": "denoise", "verdict": "fail", "needs_review": False, "shots": []},
            ]},
            "picks": {"takes": [{"take": 1, "score": score}, {"take": 2, "score": {**score, "needs_review": False}}]},
        },
    )  # fmt: skip
    items = {item.item_id: item for item in review_items(state)}
    assert set(items) == {"qc/renditions/0/shots/1", "qc/renditions/1", "picks/takes/0/score"}
    assert items["qc/renditions/1"].field == "denoise"
    assert items["picks/takes/0/score"].field == "score" and items["picks/takes/0/score"].confidence == 0.4
    failed_shot = items["qc/renditions/0/shots/1"]
    decided, _ = apply_verdict(
        state, item_id=failed_shot.item_id, verdict="accepted", expected_revision=failed_shot.revision,
        reviewer="qa", note="", now=datetime(2026, 11, 1, tzinfo=UTC),
    )  # fmt: skip
    assert "qc/renditions/0/shots/1" not in {item.item_id for item in review_items(decided)}
    assert decided.sections["qc"]["renditions"][0]["shots"][1]["review"]["reviewer"] == "qa"
