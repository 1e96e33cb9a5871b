from __future__ import annotations

import pytest
from rushes_media import MediaRejected, validate_filename


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("A001_C002.mov", "A001_C002.mov"),
        ("  take 3.mp4 ", "take 3.mp4"),
        ("scène 12.mov", "scène 12.mov"),
        ("e\u0301te\u0301.mp4", "\u00e9t\u00e9.mp4"),  # NFC: the same name however the OS spelled it
        (".hidden.wav", ".hidden.wav"),
    ],
)
def test_accepts_and_cleans(raw: str, cleaned: str) -> None:
    assert validate_filename(raw) == cleaned


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("../etc/passwd", "separator"),
        ("dir/clip.mp4", "separator"),
        ("C:\\clips\\a.mp4", "separator"),
        ("..", "'..'"),
        ("clip..mp4", "'..'"),
        (".", "'..' or is '.'"),
        ("clip\x00.mp4", "control"),
        ("clip\n.mp4", "control"),
        ("clip\x1b[31m.mp4", "control"),
        ("clip\ud800.mp4", "surrogate"),
        ("evil\u202egpj.mp4", "bidi"),
        ("a" * 252 + ".mp4", "256 bytes"),
        ("é" * 128, "256 bytes"),
    ],
)
def test_refuses_unsafe_names(raw: str, fragment: str) -> None:
    with pytest.raises(MediaRejected) as caught:
        validate_filename(raw)
    assert caught.value.code == "bad_filename"
    assert fragment in caught.value.reason


def test_refuses_non_text() -> None:
    with pytest.raises(MediaRejected) as caught:
        validate_filename(b"clip.mp4")  # type: ignore[arg-type]
    assert caught.value.code == "bad_filename"


def test_exactly_255_bytes_is_accepted() -> None:
    name = "a" * 251 + ".mp4"
    assert validate_filename(name) == name
