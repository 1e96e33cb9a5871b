"""Reading a reference transcript supplied for QC: strictly UTF-8, refused clearly otherwise.

A reference in the wrong encoding would not fail loudly later: it would silently inflate WER with
mojibake. So the bytes are decoded strictly and the first bad byte is named.
"""

from __future__ import annotations

from pathlib import Path

from rushes_asr.subtitles.errors import ReferenceTranscriptError

MAX_REFERENCE_BYTES = 10 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


def load_reference_transcript(source: Path | str | bytes, *, max_bytes: int = MAX_REFERENCE_BYTES) -> str:
    """The text of a reference transcript (a path, or the file's bytes), UTF-8 with or without a
    byte-order mark. Raises `ReferenceTranscriptError` when it is not valid UTF-8 (naming the byte
    offset), contains NUL characters (UTF-16 text looks like that), is empty, or is too large."""
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise ReferenceTranscriptError(
                    f"reference transcript is {size} bytes, over the {max_bytes}-byte limit"
                )
            data = path.read_bytes()
        except OSError as error:
            raise ReferenceTranscriptError(
                f"cannot read reference transcript {path}: {error.strerror}"
            ) from error
    if len(data) > max_bytes:
        raise ReferenceTranscriptError(
            f"reference transcript is {len(data)} bytes, over the {max_bytes}-byte limit"
        )
    offset = len(_BOM) if data.startswith(_BOM) else 0
    try:
        text = data[offset:].decode("utf-8", errors="strict")
    except UnicodeDecodeError as error:
        raise ReferenceTranscriptError(
            f"reference transcript is not valid UTF-8 (byte {error.start + offset})"
        ) from error
    nul = text.find("\x00")
    if nul >= 0:
        byte = len(text[:nul].encode("utf-8")) + offset
        raise ReferenceTranscriptError(
            f"reference transcript contains a NUL character (byte {byte}): is it UTF-16? It must be UTF-8"
        )
    if not text.strip():
        raise ReferenceTranscriptError("reference transcript is empty")
    return text
