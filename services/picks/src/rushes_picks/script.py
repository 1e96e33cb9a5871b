"""Scripts a cut is assembled against: plain text (one line per line) or a Fountain screenplay.

Fountain (https://fountain.io/syntax) is read for what alignment needs: each dialogue block is one
script line, with its character and scene. Title page, boneyard (/* */), notes ([[ ]]),
parentheticals, transitions and action are recognised and skipped. A script that cannot be read
raises ScriptError naming the file line at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rushes_picks.delivery import tokens

MAX_SCRIPT_BYTES = 4 * 1024 * 1024
MAX_LINES = 10_000
MAX_LINE_CHARS = 4000

_SCENE = re.compile(r"^(INT|EXT|EST|INT\./EXT|INT/EXT|I/E)[\. ]", re.IGNORECASE)
_TITLE_KEY = re.compile(r"^(title|credit|author|authors|source|draft date|contact|notes|copyright):", re.I)
_CHARACTER = re.compile(r"^[A-Z0-9][A-Z0-9 .'\-]*(\s*\([^)]*\))?\s*\^?$")
_TRANSITION = re.compile(r"^[A-Z ]+TO:$")
_SPEAKER = re.compile(r"^([A-Z][A-Za-z0-9 .'\-]{0,40}):\s+(\S.*)$")


class ScriptError(ValueError):
    """The script cannot be read; the message names what and where."""


@dataclass(frozen=True)
class ScriptLine:
    number: int  # 1-based among the script's lines (what "matches script line 12" counts)
    text: str
    character: str = ""
    scene: str = ""
    source_line: int = 0  # 1-based line of the file it starts on

    @property
    def tokens(self) -> list[str]:
        return tokens(self.text)


@dataclass(frozen=True)
class Script:
    name: str
    format: str  # "plain" | "fountain"
    lines: tuple[ScriptLine, ...]


def parse_script(data: bytes, name: str = "script.txt") -> Script:
    if not data:
        raise ScriptError(f"{name}: the script is empty")
    if len(data) > MAX_SCRIPT_BYTES:
        raise ScriptError(f"{name}: the script is larger than {MAX_SCRIPT_BYTES} bytes")
    nul = data.find(b"\x00")
    if nul != -1:
        raise ScriptError(f"{name}: binary data (NUL byte at offset {nul}), not a text script")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScriptError(f"{name}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(raw_lines) > MAX_LINES:
        raise ScriptError(f"{name}: more than {MAX_LINES} lines")
    for number, line in enumerate(raw_lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            raise ScriptError(f"{name}: line {number} is longer than {MAX_LINE_CHARS} characters")
        bad = next((c for c in line if ord(c) < 32 and c != "\t"), None)
        if bad is not None:
            raise ScriptError(f"{name}: line {number} contains control character {bad!r}")
    if _is_fountain(name, raw_lines):
        lines = _parse_fountain(name, raw_lines)
        kind = "fountain"
    else:
        lines = _parse_plain(raw_lines)
        kind = "plain"
    if not lines:
        what = "no dialogue" if kind == "fountain" else "no lines"
        raise ScriptError(f"{name}: {what} to align takes to")
    return Script(name=name, format=kind, lines=tuple(lines))


def _is_fountain(name: str, lines: list[str]) -> bool:
    if name.lower().endswith((".fountain", ".spmd")):
        return True
    stripped = [line.strip() for line in lines if line.strip()]
    return bool(stripped) and (
        _TITLE_KEY.match(stripped[0]) is not None or any(_SCENE.match(line) for line in stripped)
    )


def _parse_plain(raw_lines: list[str]) -> list[ScriptLine]:
    lines: list[ScriptLine] = []
    for number, raw in enumerate(raw_lines, start=1):
        text = raw.strip()
        if not text or not tokens(text):
            continue
        character = ""
        if match := _SPEAKER.match(text):
            character, text = match.group(1).strip(), match.group(2).strip()
        lines.append(ScriptLine(number=len(lines) + 1, text=text, character=character, source_line=number))
    return lines


def _strip_boneyard_and_notes(name: str, raw_lines: list[str]) -> list[str]:
    joined = "\n".join(raw_lines)
    start = joined.find("/*")
    while start != -1:
        end = joined.find("*/", start + 2)
        if end == -1:
            line = joined.count("\n", 0, start) + 1
            raise ScriptError(f"{name}: line {line}: boneyard '/*' is never closed with '*/'")
        # Keep the newlines so line numbers stay true.
        joined = joined[:start] + "\n" * joined.count("\n", start, end) + joined[end + 2 :]
        start = joined.find("/*")
    open_note = joined.find("[[")
    while open_note != -1:
        close = joined.find("]]", open_note + 2)
        if close == -1:
            line = joined.count("\n", 0, open_note) + 1
            raise ScriptError(f"{name}: line {line}: note '[[' is never closed with ']]'")
        joined = joined[:open_note] + "\n" * joined.count("\n", open_note, close) + joined[close + 2 :]
        open_note = joined.find("[[")
    return joined.split("\n")


def _skip_title_page(raw_lines: list[str]) -> int:
    """Index of the first line after the title page (0 when there is none)."""
    first = next((i for i, line in enumerate(raw_lines) if line.strip()), None)
    if first is None or not _TITLE_KEY.match(raw_lines[first].strip()):
        return 0
    for i in range(first, len(raw_lines)):
        if not raw_lines[i].strip():
            return i + 1
    return len(raw_lines)


def _parse_fountain(name: str, raw_lines: list[str]) -> list[ScriptLine]:
    body = _strip_boneyard_and_notes(name, raw_lines)
    lines: list[ScriptLine] = []
    scene = ""
    i = _skip_title_page(body)
    previous_blank = True
    while i < len(body):
        line = body[i].strip()
        if not line:
            previous_blank = True
            i += 1
            continue
        if line.startswith((".", "#", "=")) and not line.startswith(".."):
            # Forced scene heading, section or synopsis.
            if line.startswith("."):
                scene = line[1:].strip()
        elif _SCENE.match(line):
            scene = line
        elif (
            previous_blank
            and (line.startswith("@") or _is_character_cue(line))
            and not _TRANSITION.match(line)
        ):
            character = re.sub(r"\s*\(.*\)\s*$", "", line.lstrip("@").rstrip("^").strip())
            dialogue, end = _dialogue(body, i + 1)
            if not dialogue:
                raise ScriptError(f"{name}: line {i + 1}: character {character!r} has no dialogue after it")
            lines.append(
                ScriptLine(
                    number=len(lines) + 1, text=dialogue, character=character, scene=scene, source_line=i + 2
                )
            )
            i = end
            previous_blank = False
            continue
        previous_blank = False
        i += 1
    return lines


def _is_character_cue(line: str) -> bool:
    return _CHARACTER.match(line) is not None and any(c.isalpha() for c in line)


def _dialogue(body: list[str], start: int) -> tuple[str, int]:
    """The dialogue under a character cue (parentheticals skipped) and the index after it."""
    said: list[str] = []
    i = start
    while i < len(body) and body[i].strip():
        text = body[i].strip()
        if not (text.startswith("(") and text.endswith(")")):
            said.append(text)
        i += 1
    return " ".join(said), i
