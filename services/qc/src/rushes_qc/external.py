"""Renditions made elsewhere (another tool's upscale or denoise), received as a stream of chunks and
kept next to their source under assets/<id>/renditions/external/<sha16>.<ext>.

The upload is bounded before a byte is written: the header declares the size and SHA-256, the
declared size must be within the media size limit, and the bytes received may not exceed it; the
digest is checked at the end. Nothing is stored unless all of that holds.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import BinaryIO

from rushes_storage import asset_key

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ASSET_ID = re.compile(r"^[0-9a-f]{32}$")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")


class UploadRejected(ValueError):
    """The upload's header or bytes are not acceptable (the message names what)."""


def external_key(asset_id: str, sha256: str, filename: str) -> str:
    """Content-addressed: the same bytes uploaded twice land on the same key."""
    suffix = Path(filename).suffix.lower()
    return asset_key(
        asset_id, "renditions", "external", sha256[:16] + (suffix if _SUFFIX.match(suffix) else "")
    )


class RenditionUpload:
    """Receives one upload into `path`, enforcing the declared size, the limit and the digest."""

    def __init__(self, asset_id: str, filename: str, size_bytes: int, sha256: str, *, path: Path,
                 max_bytes: int) -> None:  # fmt: skip
        if not _ASSET_ID.match(asset_id):
            raise UploadRejected("asset_id must be the full 32-character id of the source asset")
        if not _SHA256.match(sha256):
            raise UploadRejected("sha256 must be the file's 64-character lowercase hex SHA-256")
        if size_bytes <= 0:
            raise UploadRejected("size_bytes must be the file's size (an empty file is no rendition)")
        if size_bytes > max_bytes:
            raise UploadRejected(f"the rendition is {size_bytes} bytes; the limit is {max_bytes}")
        self.asset_id = asset_id
        self.filename = filename
        self.size_bytes = size_bytes
        self.sha256 = sha256
        self.path = path
        self.received = 0
        self._digest = hashlib.sha256()
        self._file: BinaryIO = path.open("wb")

    @property
    def key(self) -> str:
        return external_key(self.asset_id, self.sha256, self.filename)

    def write(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.size_bytes:
            raise UploadRejected(f"more bytes arrived than the {self.size_bytes} the header declared")
        self._digest.update(chunk)
        self._file.write(chunk)

    def finish(self) -> Path:
        """The complete file; UploadRejected when it is short or its digest differs."""
        self._file.close()
        if self.received != self.size_bytes:
            raise UploadRejected(f"the upload ended after {self.received} of {self.size_bytes} bytes")
        if self._digest.hexdigest() != self.sha256:
            raise UploadRejected("the bytes received do not match the header's sha256")
        return self.path

    def close(self) -> None:
        self._file.close()
