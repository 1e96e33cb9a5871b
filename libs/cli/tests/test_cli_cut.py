"""`rushes cut`: argument handling, script reading, export writing and the text rendering."""

from __future__ import annotations

from pathlib import Path

import pytest
from rushes_cli.cut_cmd import MAX_SCRIPT_BYTES, read_script, render_cut, write_exports
from rushes_cli.errors import EXIT_USAGE, CliError
from rushes_cli.main import _parser


def test_cut_parses_its_options() -> None:
    args = _parser().parse_args(
        ["cut", "--project", "night", "--script", "s.fountain", "--out", "o", "--json"]
    )
    assert args.project == "night" and args.script == Path("s.fountain") and args.json
    assert args.handles < 0  # the preset's handles unless given
    with pytest.raises(SystemExit):
        _parser().parse_args(["cut"])  # --project is required


def test_a_missing_or_huge_script_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="no such file") as missing:
        read_script(tmp_path / "absent.txt")
    assert missing.value.exit_code == EXIT_USAGE
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"x" * (MAX_SCRIPT_BYTES + 1))
    with pytest.raises(CliError, match="larger than"):
        read_script(huge)


def test_exports_are_written_inside_the_folder_only(tmp_path: Path) -> None:
    written = write_exports(tmp_path / "cut", {"cut.edl": "TITLE: x\n", "../escape.txt": "no"})
    assert sorted(p.name for p in written) == ["cut.edl", "escape.txt"]
    assert (tmp_path / "cut" / "escape.txt").exists() and not (tmp_path / "escape.txt").exists()
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CliError, match="cannot write the cut into"):
        write_exports(blocker / "sub", {"cut.edl": ""})


def test_the_text_rendering_names_picks_reasons_and_alternates() -> None:
    text = render_cut({
        "cut_id": "abc", "project": "night", "status": "review", "order": "script", "duration_s": 4.2,
        "policy_reasons": ["pacing: take 3 lasts 40.0 s > 30.0 s"], "notes": ["script line 4 has no take"],
        "clips": [{"take": 3.0, "filename": "A001_C003.mov", "timecode_in": "01:00:00:10",
                   "timecode_out": "01:00:04:10", "score": 0.81, "confidence": 0.7, "needs_review": False,
                   "reasons": ["matches script line 1", "best of 3 takes"], "alternates": [{"take": 1.0}]}],
    })  # fmt: skip
    assert "cut abc of night: review, 1 clips in script order" in text
    assert "take 3 A001_C003.mov 01:00:00:10-01:00:04:10" in text and "alternates: take 1" in text
    assert "policy: pacing" in text and "note: script line 4 has no take" in text
