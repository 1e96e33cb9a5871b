"""The first-bytes classifier, on its own (no demuxer involved)."""

from __future__ import annotations

import pytest
from rushes_media.errors import MediaRejected
from rushes_media.sniff import sniff


@pytest.mark.parametrize(
    "head",
    [
        b"#EXTM3U\n#EXTINF:10,\nhttp://x/y.ts\n",
        b"  \n#ext-x-version:3\n",
        b"ffconcat version 1.0\nfile 'a.mp4'\n",
        b"file '/etc/passwd'\n",
        b"# list\nfile /etc/passwd\n",
        b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n",
        b"<?xml version='1.0'?><MPD/>",
        b"<SmoothStreamingMedia MajorVersion='2'>",
        b"[playlist]\nFile1=http://x\n",
        b"\xef\xbb\xbf#EXTM3U\n",
        b"\xff\xfe" + "#EXTM3U\n".encode("utf-16-le"),
        b"some notes\nhttp://127.0.0.1:9/x\n",
    ],
)
def test_references_are_refused(head: bytes) -> None:
    with pytest.raises(MediaRejected) as caught:
        sniff(head)
    assert caught.value.code == "playlist_or_reference"


@pytest.mark.parametrize(
    ("head", "code"),
    [
        (b"Just some notes about the shoot.\n", "not_media"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "unsupported_format"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "unsupported_format"),
        (b"PK\x03\x04\x14\x00\x00\x00", "not_media"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "not_media"),
        (b"\x7fELF\x02\x01\x01\x00", "not_media"),
    ],
)
def test_non_media_is_refused_with_its_kind(head: bytes, code: str) -> None:
    with pytest.raises(MediaRejected) as caught:
        sniff(head)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "head",
    [
        b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41",
        b"\x1aE\xdf\xa3\x9fB\x86\x81\x01",  # Matroska EBML header
        b"RIFF\x24\x08\x00\x00WAVEfmt ",
        b"\x47\x40\x11\x10\x00\x42\xf0\x25",  # MPEG-TS sync byte
        b"ID3\x04\x00\x00\x00\x00\x00\x00",
        b"\x06\x0e\x2b\x34\x02\x05\x01\x01",  # MXF
        b"BM\x00\x00mdat\x00\x00\x00\x00",  # a QuickTime file starting with a 1.2 GB mdat box spells "BM"
    ],
)
def test_media_headers_pass(head: bytes) -> None:
    sniff(head)  # no exception
