"""Preset books: one loader for every stage's presets file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict
from rushes_config import PresetError, load_preset_book


class Knob(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    level: float = 0.5


def _book(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "presets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_presets_are_named_and_the_default_is_found(tmp_path: Path) -> None:
    book = load_preset_book(
        _book(tmp_path, "default: soft\npresets:\n  soft: {level: 0.2}\n  hard: {}\n"), Knob
    )
    assert book.get().name == "soft" and book.get().level == 0.2
    assert book.get("hard").level == 0.5 and book.names == ["hard", "soft"]
    with pytest.raises(PresetError, match="unknown preset 'x'; known: hard, soft"):
        book.get("x")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("presets: {a: {}}\n", "default preset None is not one of"),
        ("default: a\n", "non-empty 'presets'"),
        ("default: a\npresets: {a: {}}\nextra: 1\n", "unknown top-level key"),
        ("default: a\npresets: {a: [1]}\n", "presets.a: expected a mapping"),
        ("default: a\npresets: {a: {level: loud}}\n", "presets.a.level"),
        ("default: a\npresets: {a: {colour: 1}}\n", "presets.a.colour"),
        ("default: [\n", "cannot read presets"),
    ],
)
def test_bad_books_name_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(PresetError, match=needle):
        load_preset_book(_book(tmp_path, text), Knob)
