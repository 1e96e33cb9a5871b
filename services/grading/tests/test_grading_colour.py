"""The colour math on generated pictures with known errors (pure logic, no servers)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from rushes_grading import colour_math, matcher, stats, synthetic, transform
from rushes_grading.confidence import confidence_from_delta_e
from rushes_grading.presets import PresetError, get_preset
from rushes_grading.transform import IDENTITY, GradeParams, InvalidParams

PRESET = get_preset(None)
REFERENCE = synthetic.scene(320, 180)
REFERENCE_STATS = stats.measure(stats.sample_pixels([REFERENCE]))


@pytest.mark.parametrize(
    ("gains", "exposure"),
    [
        ((1.25, 1.0, 0.75), 0.0),  # warm white-balance error
        ((0.85, 1.0, 1.3), -0.7),  # cool and under-exposed
        ((1.0, 1.15, 1.0), 0.5),  # green tint, over-exposed
    ],
)
def test_a_known_cast_exposure_and_white_balance_error_is_removed(gains, exposure) -> None:
    target = synthetic.with_cast(REFERENCE, gains=gains, exposure_stops=exposure)
    start = colour_math.mean_delta_e(target, REFERENCE)
    assert start > 4.0, f"the generated error must be clearly visible (measured {start:.2f})"
    grade = matcher.match(stats.sample_pixels([target]), REFERENCE_STATS, PRESET)
    after = colour_math.mean_delta_e(transform.render(target, grade.params), REFERENCE)
    assert after <= 2.0, f"mean CIEDE2000 {start:.2f} -> {after:.2f}"
    assert grade.predicted_delta_e < grade.delta_e_before
    assert grade.confidence >= PRESET.review_below and not grade.needs_review
    assert grade.params.exposure_stops == pytest.approx(-exposure, abs=0.15)


def test_identity_grade_leaves_every_code_value_alone() -> None:
    assert np.array_equal(transform.render(REFERENCE, IDENTITY), REFERENCE)


def test_matching_the_reference_to_itself_is_near_identity_and_confident() -> None:
    grade = matcher.match(stats.sample_pixels([REFERENCE]), REFERENCE_STATS, PRESET)
    assert grade.predicted_delta_e < 0.5
    assert grade.confidence > 0.95
    assert colour_math.mean_delta_e(transform.render(REFERENCE, grade.params), REFERENCE) < 0.5


def test_monochrome_target_against_colour_reference_goes_to_review() -> None:
    grade = matcher.match(stats.sample_pixels([synthetic.monochrome(REFERENCE)]), REFERENCE_STATS, PRESET)
    assert grade.confidence < PRESET.review_below
    assert grade.needs_review
    assert "target_monochrome" in grade.reasons
    assert "below_review_threshold" in grade.reasons


def test_confidence_is_one_at_zero_error_and_strictly_decreasing() -> None:
    errors = np.linspace(0.0, 30.0, 301)
    values = [confidence_from_delta_e(e, 3.5) for e in errors]
    assert values[0] == 1.0
    assert all(a > b for a, b in itertools.pairwise(values))
    assert confidence_from_delta_e(3.5, 3.5) == pytest.approx(0.5)
    assert confidence_from_delta_e(float("nan"), 3.5) == 0.0


def test_confidence_orders_grades_by_their_measured_error() -> None:
    """Larger casts leave larger residual errors: the confidences must rank them the same way."""
    grades = []
    for strength in (0.0, 0.6, 1.0):
        target = synthetic.with_cast(REFERENCE, gains=(1 + 0.6 * strength, 1.0, 1 - 0.5 * strength))
        grades.append(matcher.match(stats.sample_pixels([synthetic.monochrome(target)]) if strength == 1.0
                                    else stats.sample_pixels([target]), REFERENCE_STATS, PRESET))  # fmt: skip
    ordered = sorted(grades, key=lambda g: g.predicted_delta_e)
    assert [g.confidence for g in ordered] == sorted((g.confidence for g in grades), reverse=True)


def test_skin_keeps_its_hue_when_the_look_changes_chroma() -> None:
    face = np.array([[0.87, 0.67, 0.55]])  # the skin patch of the generated scene
    params = GradeParams(chroma_scale=1.8, target_ab=(0.0, 0.0), reference_ab=(0.0, 0.0))
    protected = transform.apply(face, params.with_changes(skin_protect=1.0))
    unprotected = transform.apply(face, params)
    shift_protected = colour_math.mean_delta_e(protected, face)
    shift_unprotected = colour_math.mean_delta_e(unprotected, face)
    assert shift_protected < 0.3 * shift_unprotected


def test_highlights_roll_off_instead_of_clipping() -> None:
    ramp = np.linspace(0.6, 1.0, 50)[:, None].repeat(3, axis=1)
    brightened = transform.apply(ramp, GradeParams(exposure_stops=1.0))
    assert np.all(np.diff(brightened[:, 1]) > 0), "distinct highlights must stay distinct"
    assert brightened.max() <= 1.0


def test_continuity_normalises_shots_toward_the_hero() -> None:
    shots = [
        synthetic.with_cast(REFERENCE, gains=(1.2, 1.0, 0.8), exposure_stops=0.4),
        REFERENCE,
        synthetic.with_cast(REFERENCE, gains=(0.8, 1.0, 1.25), exposure_stops=-0.5),
    ]
    measured = [stats.measure(stats.sample_pixels([s])) for s in shots]
    hero = matcher.hero_index(measured)
    assert hero == 1
    grades = [matcher.match(stats.sample_pixels([s]), measured[hero], PRESET, "continuity") for s in shots]
    steps = matcher.continuity_steps(measured, [g.after for g in grades])
    assert all(after < before / 3 for before, after in steps), steps


def test_out_of_range_parameters_name_the_field() -> None:
    with pytest.raises(InvalidParams, match="exposure_stops"):
        GradeParams(exposure_stops=9.0).validated()
    with pytest.raises(InvalidParams, match="wb_gains"):
        GradeParams(wb_gains=(1.0, 0.0, 1.0)).validated()
    with pytest.raises(InvalidParams, match="tone_in"):
        GradeParams(tone_in=(0.5, 0.4), tone_out=(0.5, 0.6)).validated()
    with pytest.raises(InvalidParams, match="finite"):
        GradeParams(strength=float("nan")).validated()


def test_unknown_preset_is_named() -> None:
    with pytest.raises(PresetError, match="nope"):
        get_preset("nope")


def test_look_statistics_round_trip_through_json() -> None:
    again = stats.LookStats.from_json(REFERENCE_STATS.to_json())
    assert again == REFERENCE_STATS
    with pytest.raises(ValueError, match="malformed"):
        stats.LookStats.from_json({"tone": []})
