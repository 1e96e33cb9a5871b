"""The upload spool: size bound, truncation and checksum checks, nothing left on disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from rushes_ingest.pipeline import asset_id_for
from rushes_ingest.spool import Spool, UploadError


def test_spool_hashes_and_keeps_bytes(tmp_path: Path) -> None:
    with Spool(tmp_path, max_bytes=100) as spool:
        spool.write(b"hello ")
        spool.write(b"world")
        spooled = spool.finish(declared_size=11, declared_sha256=hashlib.sha256(b"hello world").hexdigest())
        assert spooled.path.read_bytes() == b"hello world"
        assert spooled.size == 11
    assert list(tmp_path.iterdir()) == []


def test_spool_refuses_more_than_the_limit(tmp_path: Path) -> None:
    with Spool(tmp_path, max_bytes=8) as spool, pytest.raises(UploadError, match="8 byte limit"):
        spool.write(b"0123456789")
    assert list(tmp_path.iterdir()) == []


def test_spool_detects_truncated_upload(tmp_path: Path) -> None:
    with Spool(tmp_path, max_bytes=100) as spool:
        spool.write(b"abc")
        with pytest.raises(UploadError, match="3 of 10"):
            spool.finish(declared_size=10)


def test_spool_detects_corruption(tmp_path: Path) -> None:
    with Spool(tmp_path, max_bytes=100) as spool:
        spool.write(b"abc")
        with pytest.raises(UploadError, match="SHA-256"):
            spool.finish(declared_sha256="00" * 32)


def test_asset_id_is_a_stable_prefix_of_the_content_hash() -> None:
    digest = hashlib.sha256(b"same bytes").hexdigest()
    assert asset_id_for(digest) == asset_id_for(digest) == digest[:32]
    assert asset_id_for(hashlib.sha256(b"other bytes").hexdigest()) != asset_id_for(digest)
