"""Scripts (plain text and Fountain), their bad forms, and matching takes to script lines."""

from __future__ import annotations

import pytest
from rushes_picks.alignment import match_line
from rushes_picks.delivery import tokens
from rushes_picks.script import ScriptError, parse_script
from rushes_picks.synthetic import words

FOUNTAIN = b"""Title: The Long Night
Author: Someone

INT. KITCHEN - NIGHT

Anna stands at the sink.

ANNA
(quietly)
I never wanted any of this to happen.

/* an old version of the line
BEN
You did. */

BEN (V.O.)
Then why did you stay?

[[note to self: trim]]
CUT TO:

EXT. STREET - LATER

ANNA
Because somebody had to.
"""


def test_fountain_dialogue_becomes_numbered_lines_with_character_and_scene() -> None:
    script = parse_script(FOUNTAIN, "night.fountain")
    assert script.format == "fountain"
    assert [(line.number, line.character, line.text) for line in script.lines] == [
        (1, "ANNA", "I never wanted any of this to happen."),
        (2, "BEN", "Then why did you stay?"),
        (3, "ANNA", "Because somebody had to."),
    ]
    assert script.lines[0].scene == "INT. KITCHEN - NIGHT" and script.lines[2].scene.startswith("EXT. STREET")
    # Detected without the extension too (a scene heading gives it away).
    assert parse_script(FOUNTAIN, "night.txt").format == "fountain"


def test_plain_text_is_one_line_per_line_with_optional_speaker() -> None:
    script = parse_script(b"ANNA: I never wanted this.\n\n  Then why stay?\r\nBecause.\n", "lines.txt")
    assert script.format == "plain"
    assert [(line.number, line.character, line.text, line.source_line) for line in script.lines] == [
        (1, "ANNA", "I never wanted this.", 1),
        (2, "", "Then why stay?", 3),
        (3, "", "Because.", 4),
    ]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.txt", "the script is empty"),
        (b"\xff\xfe\x00bad", "a.txt", "NUL byte at offset 2"),
        (b"caf\xe9 au lait", "a.txt", "not UTF-8 text (invalid byte at offset 3)"),
        (b"\n\n   \n", "a.txt", "no lines to align takes to"),
        (b"INT. ROOM\n\nANNA\n\nBEN\nHi.\n", "s.fountain", "line 3: character 'ANNA' has no dialogue"),
        (b"INT. ROOM\n\n/* never closed\nANNA\nHi.\n", "s.fountain", "line 3: boneyard '/*' is never closed"),
        (b"INT. ROOM\n\nA quiet room.\n", "s.fountain", "no dialogue to align takes to"),
        (b"line\x07bell\n", "a.txt", "line 1 contains control character"),
    ],
)
def test_bad_scripts_are_refused_with_the_reason_and_place(data: bytes, name: str, message: str) -> None:
    with pytest.raises(
        ScriptError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
    ):
        parse_script(data, name)


def test_a_take_delivers_a_line_and_the_span_is_where_it_is_said() -> None:
    line = tokens("I never wanted any of this to happen.")
    take = words("okay um I never wanted any of this to happen thanks", 1.0)
    match = match_line(line, take)
    assert match is not None and match.coverage == 1.0
    assert match.start_s == pytest.approx(1.7) and match.end_s == pytest.approx(1.0 + 0.35 * 9 + 0.28)
    flub = match_line(line, words("I never wanted any of uh this", 0.0))
    assert flub is not None and 0.7 < flub.coverage < 0.9
    assert match_line(line, words("where were you last night", 0.0)) is None
    assert match_line(line, []) is None
