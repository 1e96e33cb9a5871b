"""Presets: the bundled file is valid, and every kind of mistake in a presets file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from rushes_tagging.presets import KNOWN_FIELDS, PresetError, bundled_presets, get_preset, load_presets


def test_bundled_presets_cover_the_concepts() -> None:
    presets = bundled_presets()
    assert {"documentary", "drama", "sports", "commercial"} <= set(presets.presets)
    assert get_preset(None).name == presets.default
    sports = get_preset("sports")
    assert (
        sports.analysis_config().stabilization_jitter_pct
        > get_preset("documentary").analysis_config().stabilization_jitter_pct
    )
    assert get_preset("drama").review_threshold("shot_type") == 0.65
    assert get_preset("drama").review_threshold("noise") == get_preset("drama").review_below


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(PresetError, match="known: commercial, documentary"):
        get_preset("western")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("default: a\npresets:\n  a:\n    fields: [shot_type, vibes]\n", "unknown fields"),
        ("default: a\npresets:\n  a:\n    categories: [interview, musical]\n", "categories"),
        ("default: a\npresets:\n  a:\n    review_below: 1.5\n", "review_below"),
        ("default: a\npresets:\n  a:\n    analysis: {no_such_threshold: 1}\n", "unknown analysis thresholds"),
        ("default: a\npresets:\n  a:\n    analysis: {clip_level: -4}\n", "analysis thresholds"),
        ("default: b\npresets:\n  a: {}\n", "default tagging preset .b. is not one of"),
        ("default: a\npresets:\n  a:\n    colour: blue\n", "Extra inputs"),
        ("default: [unclosed\n", "cannot read tagging presets"),
    ],
)
def test_bad_presets_files_are_refused_with_the_reason(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "presets.yaml"
    path.write_text(body)
    with pytest.raises(PresetError, match=needle):
        load_presets(path)


def test_every_known_field_has_an_analyzer_decision() -> None:
    from rushes_tagging.analysis import FIELDS

    assert set(KNOWN_FIELDS) <= set(FIELDS)
