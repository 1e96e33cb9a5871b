"""Receiving an upload onto local disk with a size bound, hashing as it arrives."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType


class UploadError(ValueError):
    """The upload itself is malformed (missing header, size or checksum mismatch, too large)."""


@dataclass
class SpooledFile:
    path: Path
    size: int
    sha256: str


class Spool:
    """A temporary file that accumulates chunks; removed on close whatever happened."""

    def __init__(self, directory: Path | None, *, max_bytes: int) -> None:
        fd, name = tempfile.mkstemp(prefix="rushes-upload-", dir=directory)
        self._fh = open(fd, "wb")  # noqa: SIM115 - closed in finish()/close()
        self.path = Path(name)
        self.max_bytes = max_bytes
        self.size = 0
        self._digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise UploadError(f"file exceeds the {self.max_bytes} byte limit")
        self._digest.update(chunk)
        self._fh.write(chunk)

    def finish(self, *, declared_size: int = 0, declared_sha256: str = "") -> SpooledFile:
        self._fh.close()
        if declared_size and declared_size != self.size:
            raise UploadError(f"upload truncated: {self.size} of {declared_size} declared bytes arrived")
        digest = self._digest.hexdigest()
        if declared_sha256 and declared_sha256.lower() != digest:
            raise UploadError("upload corrupted: SHA-256 of the received bytes differs from the declared one")
        return SpooledFile(path=self.path, size=self.size, sha256=digest)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
