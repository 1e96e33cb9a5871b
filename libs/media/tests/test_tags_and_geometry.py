"""Pure helpers: tag parsing (camera, timecode, dates) and output geometry."""

from __future__ import annotations

from fractions import Fraction

import pytest
from rushes_media.geometry import fit_display, rotation_filters
from rushes_media.tags import (
    camera_from_tags,
    clean_tag,
    first_timecode,
    lower_keys,
    normalise_timecode,
    parse_creation_time,
)


def test_camera_from_quicktime_android_and_generic_keys() -> None:
    apple = lower_keys({"com.apple.quicktime.make": "Apple", "com.apple.quicktime.model": "iPhone 15 Pro"})
    assert camera_from_tags(apple)["make"] == "Apple"
    assert camera_from_tags(apple)["model"] == "iPhone 15 Pro"
    android = lower_keys({"com.android.manufacturer": "Google", "com.android.model": "Pixel 8"})
    assert (camera_from_tags(android)["make"], camera_from_tags(android)["model"]) == ("Google", "Pixel 8")
    assert camera_from_tags(lower_keys({"Make": "Canon", "Model": "EOS R5"}))["model"] == "EOS R5"


def test_encoder_is_not_a_camera() -> None:
    camera = camera_from_tags(lower_keys({"encoder": "Lavf62.12.102", "handler_name": "VideoHandler"}))
    assert all(value == "" for value in camera.values())


def test_camera_from_xmp_attributes_and_elements() -> None:
    xmp = (
        '<x:xmpmeta><rdf:Description tiff:Make="SONY" tiff:Model="ILCE-7SM3">'
        "<exifEX:LensModel>FE 24-70mm F2.8 GM II</exifEX:LensModel>"
        "<exif:ISOSpeedRatings><rdf:Seq><rdf:li>800</rdf:li></rdf:Seq></exif:ISOSpeedRatings>"
        "<exif:ExposureTime>1/50</exif:ExposureTime>"
        "</rdf:Description></x:xmpmeta>"
    )
    camera = camera_from_tags({"xmp": xmp})
    assert camera["make"] == "SONY"
    assert camera["model"] == "ILCE-7SM3"
    assert camera["lens"] == "FE 24-70mm F2.8 GM II"
    assert camera["iso"] == "800"
    assert camera["shutter"] == "1/50"


def test_explicit_keys_win_over_xmp() -> None:
    tags = {"make": "Blackmagic", "xmp": '<d tiff:Make="Other"/>'}
    assert camera_from_tags(tags)["make"] == "Blackmagic"


def test_tag_values_are_bounded_and_defanged() -> None:
    assert clean_tag("Canon\x1b[31m\nEOS") == "Canon [31m EOS"
    assert len(clean_tag("x" * 10_000)) == 256


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01:00:00:00", "01:00:00:00"),
        ("10:59:59;29", "10:59:59;29"),
        ("00:00:10,12", "00:00:10;12"),
        ("00:00:10.12", "00:00:10:12"),
        ("1:00:00:00", ""),
        ("00:61:00:00", ""),
        ("tomorrow", ""),
    ],
)
def test_timecode_normalisation(raw: str, expected: str) -> None:
    assert normalise_timecode(raw) == expected


def test_first_valid_timecode_wins() -> None:
    assert first_timecode(
        [{"timecode": "junk"}, {"TIMECODE": "02:00:00:00"}, {"timecode": "03:00:00:00"}]
    ) == ("02:00:00:00")
    assert first_timecode([{}, {"encoder": "x"}]) == ""


def test_creation_time_parsing() -> None:
    assert parse_creation_time({"creation_time": "2024-05-01T10:00:00.000000Z"}) == 1714557600.0
    assert (
        parse_creation_time({"com.apple.quicktime.creationdate": "2024-05-01T12:00:00+0200"}) == 1714557600.0
    )
    assert parse_creation_time({"creation_time": "1904-01-01T00:00:00Z"}) == 0.0
    assert parse_creation_time({"creation_time": "not a date"}) == 0.0
    assert parse_creation_time({}) == 0.0


@pytest.mark.parametrize(
    ("size", "sar", "rotation", "box", "expected"),
    [
        ((1920, 1080), None, 0, (1280, 720), (1280, 720)),
        ((640, 360), None, 0, (1280, 720), (640, 360)),  # never upscaled
        ((1920, 1080), None, 90, (1280, 720), (404, 720)),  # portrait fits the height
        ((720, 576), Fraction(64, 45), 0, (1280, 720), (1024, 576)),  # anamorphic PAL
        ((720, 480), Fraction(8, 9), 0, (1280, 720), (720, 540)),  # NTSC 4:3, SAR < 1
        ((101, 57), None, 0, (1280, 720), (100, 56)),  # odd sizes become even, rounding down
        ((1281, 721), None, 0, (1920, 1080), (1280, 720)),
        ((3840, 2160), None, 180, (1280, 1280), (1280, 720)),
    ],
)
def test_fit_display(
    size: tuple[int, int],
    sar: Fraction | None,
    rotation: int,
    box: tuple[int, int],
    expected: tuple[int, int],
) -> None:
    scaling = fit_display(*size, sar, rotation, max_width=box[0], max_height=box[1])
    assert (scaling.width, scaling.height) == expected
    assert scaling.width % 2 == 0 and scaling.height % 2 == 0
    if rotation in (90, 270):
        assert (scaling.scaled_width, scaling.scaled_height) == (expected[1], expected[0])


def test_fit_display_refuses_empty_pictures() -> None:
    with pytest.raises(ValueError):
        fit_display(0, 1080, None, 0, max_width=1280, max_height=720)


def test_rotation_filters() -> None:
    assert rotation_filters(0) == []
    assert rotation_filters(90) == [("transpose", "clock")]
    assert rotation_filters(270) == [("transpose", "cclock")]
    assert rotation_filters(-90) == [("transpose", "cclock")]
    assert rotation_filters(180) == [("hflip", ""), ("vflip", "")]
