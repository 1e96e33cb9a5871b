"""SMPTE timecode conversion: non-drop and drop-frame, start labels, wrap-around, bad labels."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from rushes_tagging.shots.timecode import TimecodeClock, format_timecode, parse_timecode, timecode_rate
from timecode import Timecode

NTSC = timecode_rate(Fraction(30000, 1001))
NTSC_60 = timecode_rate(Fraction(60000, 1001))
PAL = timecode_rate(25)


def test_rates_pick_nominal_labels_and_drop_frame_by_default_only_at_ntsc() -> None:
    assert (NTSC.nominal, NTSC.drop_frame, NTSC.fps) == (30, True, Fraction(30000, 1001))
    assert (NTSC_60.nominal, NTSC_60.drop_frame) == (60, True)
    assert (PAL.nominal, PAL.drop_frame) == (25, False)
    film = timecode_rate(23.976)
    assert (film.nominal, film.drop_frame, film.fps) == (24, False, Fraction(24000, 1001))
    assert timecode_rate(29.97, drop_frame=False).drop_frame is False
    # A variable-frame-rate average near 30 still takes drop-frame labels when asked to.
    assert timecode_rate(29.998, drop_frame=True).fps == Fraction(30000, 1001)


@pytest.mark.parametrize(
    ("frames", "label"),
    [
        (0, "00:00:00;00"),
        (1799, "00:00:59;29"),
        (1800, "00:01:00;02"),  # labels ;00 and ;01 are skipped at minute 1
        (17981, "00:09:59;29"),
        (17982, "00:10:00;00"),  # ...but not at every tenth minute
        (107890, "00:59:59;28"),
        (107892, "01:00:00;00"),
    ],
)
def test_drop_frame_labels_at_29_97(frames: int, label: str) -> None:
    assert format_timecode(frames, NTSC) == label
    assert parse_timecode(label, NTSC) == frames


def test_drop_frame_at_59_94_skips_four_labels() -> None:
    assert format_timecode(3599, NTSC_60) == "00:00:59;59"
    assert format_timecode(3600, NTSC_60) == "00:01:00;04"
    assert parse_timecode("00:01:00;04", NTSC_60) == 3600


def test_drop_frame_agrees_with_the_timecode_package_over_a_day() -> None:
    rng = random.Random(5)
    for frames in [0, 1, 2, 1798, 1799, 1800, 1801, 17982, *rng.sample(range(NTSC.frames_per_day), 300)]:
        reference = Timecode("29.97", frames=frames + 1)  # that package counts frames from 1
        assert format_timecode(frames, NTSC) == str(reference)


def test_non_drop_labels_and_round_trip() -> None:
    assert format_timecode(25 * 3600, PAL) == "01:00:00:00"
    assert format_timecode(25 * 3600 - 1, PAL) == "00:59:59:24"
    ndf_ntsc = timecode_rate(29.97, drop_frame=False)
    assert format_timecode(1800, ndf_ntsc) == "00:01:00:00"
    for frames in range(0, 200_000, 997):
        assert parse_timecode(format_timecode(frames, PAL), PAL) == frames
        assert parse_timecode(format_timecode(frames, NTSC), NTSC) == frames


def test_labels_wrap_at_24_hours() -> None:
    assert format_timecode(PAL.frames_per_day, PAL) == "00:00:00:00"
    assert format_timecode(NTSC.frames_per_day + 1800, NTSC) == "00:01:00;02"


@pytest.mark.parametrize(
    ("label", "rate", "problem"),
    [
        ("1:00:00", PAL, "not HH:MM:SS:FF"),
        ("01:00:00:25", PAL, "frame 25"),
        ("24:00:00:00", PAL, "hours >= 24"),
        ("00:61:00:00", PAL, "minutes >= 60"),
        ("00:01:00;00", NTSC, "does not exist in drop-frame"),
        ("00:00:10;05", PAL, "drop-frame (';'), but the rate is non-drop"),
    ],
)
def test_bad_labels_are_refused_with_the_reason(label: str, rate, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_timecode(label, rate)


def test_drop_frame_is_refused_where_it_does_not_exist() -> None:
    with pytest.raises(ValueError, match=r"only at 29\.97 and 59\.94"):
        timecode_rate(25, drop_frame=True)
    with pytest.raises(ValueError, match="positive"):
        timecode_rate(0)
    with pytest.raises(ValueError, match="start timecode"):
        TimecodeClock.for_stream(25, "ten o'clock")


def test_clock_honours_the_start_label_and_its_separator() -> None:
    pal = TimecodeClock.for_stream(25, "01:00:00:00")
    assert pal.at_frame(0) == "01:00:00:00"
    assert pal.at_frame(150) == "01:00:06:00"
    assert pal.at_seconds(6.0) == "01:00:06:00"

    drop = TimecodeClock.for_stream(29.97, "00:59:59;28")
    assert drop.rate.drop_frame
    assert [drop.at_frame(n) for n in range(4)] == [
        "00:59:59;28",
        "00:59:59;29",
        "01:00:00;00",
        "01:00:00;01",
    ]

    non_drop = TimecodeClock.for_stream(29.97, "00:59:59:28")
    assert not non_drop.rate.drop_frame
    assert non_drop.at_frame(2) == "01:00:00:00"

    assert TimecodeClock.for_stream(29.97).at_frame(1800) == "00:01:00;02"  # drop-frame by default


def test_clock_labels_variable_frame_rate_times_by_the_clock() -> None:
    clock = TimecodeClock.for_stream(25, "10:00:00:00")
    # A frame shown at 2.04 s is label 51 frames in, whatever its index in a variable-rate stream.
    assert clock.at_seconds(2.04) == "10:00:02:01"
    assert clock.at_seconds(2.039) == "10:00:02:01"
    with pytest.raises(ValueError, match="finite"):
        clock.at_seconds(float("nan"))
