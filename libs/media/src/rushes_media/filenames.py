"""Validation of client-supplied file names before they reach a path, an object key or a log line."""

from __future__ import annotations

import unicodedata

from rushes_media.errors import MediaRejected

MAX_FILENAME_BYTES = 255  # the common filesystem limit (ext4, APFS, NTFS in UTF-16 units is larger)


def validate_filename(name: str) -> str:
    """Return the cleaned base name of `name`, or raise MediaRejected("bad_filename").

    The name is only ever metadata (objects live under content-derived keys), but it is echoed into
    logs, subtitles file names and editors' tools, so anything that could act as a path or a control
    sequence is refused rather than silently rewritten.
    """
    if not isinstance(name, str):
        raise MediaRejected("bad_filename", f"file name must be text, got {type(name).__name__}")
    cleaned = unicodedata.normalize("NFC", name.strip())
    if not cleaned:
        raise MediaRejected("bad_filename", "file name is empty")
    if "/" in cleaned or "\\" in cleaned:
        raise MediaRejected("bad_filename", f"file name {cleaned!r} contains a path separator")
    if cleaned == "." or ".." in cleaned:
        # Refused as a substring, not only as a whole name: simpler to state and to audit.
        raise MediaRejected("bad_filename", f"file name {cleaned!r} contains '..' or is '.'")
    for char in cleaned:
        category = unicodedata.category(char)
        if category == "Cc" or char == "\x00":
            raise MediaRejected("bad_filename", f"file name {cleaned!r} contains a control character")
        if category == "Cs":
            raise MediaRejected("bad_filename", f"file name {cleaned!r} is not valid UTF-8 (lone surrogate)")
        if category in {"Zl", "Zp"} or char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
            # Line separators and bidi overrides make a log line or a listing lie about the name.
            raise MediaRejected("bad_filename", f"file name {cleaned!r} contains a line or bidi control")
    encoded = cleaned.encode("utf-8")
    if len(encoded) > MAX_FILENAME_BYTES:
        raise MediaRejected(
            "bad_filename", f"file name is {len(encoded)} bytes long; the limit is {MAX_FILENAME_BYTES}"
        )
    return cleaned
