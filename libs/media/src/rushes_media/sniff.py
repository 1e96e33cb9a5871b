"""Classify the first bytes of a file before any demuxer sees them.

FFmpeg has demuxers for playlists (HLS, DASH, concat scripts, SDP, ...) that open further URLs
named inside the file. Those are refused here by content, not by file extension, so a playlist named
``clip.mp4`` is caught too. This is the first of three guards; the container allowlist and the
refusal of nested opens in `rushes_media.safe_open` are the others.
"""

from __future__ import annotations

import re
from typing import Final

from rushes_media.errors import MediaRejected

SNIFF_BYTES: Final = 8192

# Text that opens a playlist, manifest, session description or script naming other resources.
_REFERENCE_PREFIXES: Final[tuple[tuple[str, str], ...]] = (
    ("#extm3u", "an M3U/HLS playlist"),
    ("#ext-x-", "an HLS playlist"),
    ("#extinf", "an M3U playlist"),
    ("ffconcat", "an FFmpeg concat script"),
    ("[playlist]", "a PLS playlist"),
    ("<?xml", "an XML document (DASH/ISM manifest, SMIL, ...)"),
    ("<mpd", "a DASH manifest"),
    ("<smoothstreamingmedia", "a Smooth Streaming manifest"),
    ("<smil", "a SMIL presentation"),
    ("<asx", "an ASX playlist"),
    ("<playlist", "an XML playlist"),
    ("<!doctype", "an HTML/XML document"),
    ("<html", "an HTML document"),
    ("v=0", "an SDP session description"),
    ("#!", "a script"),
)
# Line-based evidence anywhere in the sniffed text: a concat "file" directive, SDP fields, or a URL.
_REFERENCE_LINES: Final = re.compile(
    rb"^[ \t]*(?:file[ \t]+\S|m=(?:video|audio|application)\b|c=IN[ \t]|a=rtpmap:"
    rb"|[a-z][a-z0-9+.-]{1,15}://|concat:|subfile,|data:)",
    re.IGNORECASE | re.MULTILINE,
)
# Still images and documents: refused with a precise reason instead of a demuxer's guess.
_SIGNATURES: Final[tuple[tuple[bytes, int, str, str], ...]] = (
    (b"\x89PNG\r\n\x1a\n", 0, "unsupported_format", "a PNG image"),
    (b"\xff\xd8\xff", 0, "unsupported_format", "a JPEG image"),
    (b"GIF87a", 0, "unsupported_format", "a GIF image"),
    (b"GIF89a", 0, "unsupported_format", "a GIF image"),
    (b"BM", 0, "unsupported_format", "a BMP image"),  # confirmed by _plausible_bmp below
    (b"II*\x00", 0, "unsupported_format", "a TIFF image (or camera raw still)"),
    (b"MM\x00*", 0, "unsupported_format", "a TIFF image (or camera raw still)"),
    (b"WEBP", 8, "unsupported_format", "a WebP image"),
    (b"PK\x03\x04", 0, "not_media", "a ZIP archive"),
    (b"%PDF", 0, "not_media", "a PDF document"),
    (b"\x7fELF", 0, "not_media", "an executable"),
    (b"\x1f\x8b", 0, "not_media", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "not_media", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "not_media", "a RAR archive"),
)
# QuickTime/ISO files start with a box size, which may spell anything: these box types prove it.
ISO_BOX_TYPES: Final = frozenset({b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid"})
_BOMS: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _as_text(head: bytes) -> str | None:
    """Decode `head` when it is (almost entirely) printable text, else None."""
    encoding = "utf-8"
    for bom, name in _BOMS:
        if head.startswith(bom):
            head, encoding = head[len(bom) :], name
            break
    if encoding == "utf-8" and b"\x00" in head:
        return None
    # The sniff window can cut a multi-byte character in half: ignore errors only in the last 4 bytes.
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            return None
        text = head[: exc.start].decode(encoding)
    if not text:
        return None
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t\f")
    return text if printable / len(text) >= 0.97 else None


def sniff(head: bytes) -> None:
    """Raise MediaRejected when `head` (the first SNIFF_BYTES of a file) is not plausible media."""
    text = _as_text(head)
    if text is not None:
        stripped = text.lstrip().lower()
        for prefix, what in _REFERENCE_PREFIXES:
            if stripped.startswith(prefix):
                raise MediaRejected("playlist_or_reference", f"file is {what}, which refers to other files")
        if _REFERENCE_LINES.search(text.encode("utf-8", "replace")):
            raise MediaRejected(
                "playlist_or_reference", "file is text naming other files or URLs (playlist or script)"
            )
        raise MediaRejected("not_media", "file is plain text, not audio or video")
    if head[4:8] in ISO_BOX_TYPES:
        return
    for signature, offset, code, what in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if signature == b"BM" and not _plausible_bmp(head):
                continue
            raise MediaRejected(code, f"file is {what}, not audio or video")


def _plausible_bmp(head: bytes) -> bool:
    """BM alone is a weak signature; a BMP also has zero reserved bytes and a known header size."""
    return len(head) >= 18 and head[6:10] == b"\x00" * 4 and head[14] in {12, 40, 52, 56, 64, 108, 124}
