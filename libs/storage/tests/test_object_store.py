"""ObjectStore against a real S3 server (SeaweedFS), and against a dead endpoint."""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

import pytest
from rushes_config import S3Settings
from rushes_stack.ports import free_port
from rushes_storage import (
    ChecksumMismatch,
    ObjectNotFound,
    ObjectStore,
    ObjectTooLarge,
    StorageUnavailable,
    asset_key,
)

pytestmark = pytest.mark.integration
ASSET = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def store(s3_server) -> ObjectStore:
    store = ObjectStore(s3_server.settings(bucket="storage-tests", part_size_bytes=5 * 1024 * 1024))
    store.ensure_bucket()
    store.ensure_bucket()  # idempotent
    return store


def test_round_trip_keeps_bytes_and_checksum(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "in.bin"
    src.write_bytes(os.urandom(300_000))
    key = asset_key(ASSET, "original.mov")
    stored = store.put_file(key, src, content_type="video/quicktime")
    info = store.stat(key)
    assert info is not None and info.sha256 == stored.sha256 and info.size == 300_000
    assert info.content_type == "video/quicktime"
    out = tmp_path / "out.bin"
    store.get_file(key, out)
    assert out.read_bytes() == src.read_bytes()
    assert store.get_bytes(key) == src.read_bytes()


def test_multipart_upload_of_a_larger_file(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(12 * 1024 * 1024))  # three 5 MiB parts
    key = asset_key(ASSET, "big.bin")
    store.put_file(key, src)
    out = tmp_path / "big.out"
    store.get_file(key, out)
    assert out.read_bytes() == src.read_bytes()


def test_corrupted_object_is_detected(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(b"the real bytes")
    key = asset_key(ASSET, "tampered.bin")
    store.put_file(key, src, sha256="0" * 64)  # a checksum that does not match what is stored
    with pytest.raises(ChecksumMismatch):
        store.get_file(key, tmp_path / "a.out")
    assert not (tmp_path / "a.out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".part-")] == []


def test_size_limit_on_read(store: ObjectStore, tmp_path: Path) -> None:
    key = asset_key(ASSET, "limit.bin")
    store.put_bytes(key, b"x" * 1000)
    with pytest.raises(ObjectTooLarge):
        store.get_file(key, tmp_path / "x", max_bytes=999)
    with pytest.raises(ObjectTooLarge):
        store.get_bytes(key, max_bytes=10)


def test_missing_object(store: ObjectStore, tmp_path: Path) -> None:
    key = asset_key(ASSET, "absent.bin")
    assert store.stat(key) is None
    with pytest.raises(ObjectNotFound):
        store.get_file(key, tmp_path / "absent")
    with pytest.raises(ObjectNotFound):
        store.get_bytes(key)


def test_delete_prefix_removes_exactly_the_asset(store: ObjectStore) -> None:
    other = "fedcba9876543210fedcba9876543210"
    for name in ("a", "b", "c/d"):
        store.put_bytes(asset_key(ASSET + "00", name), b"1")
    store.put_bytes(asset_key(other, "keep"), b"1")
    assert store.delete_prefix(f"assets/{ASSET}00/") == 3
    assert store.list_keys(f"assets/{ASSET}00/") == []
    assert store.list_keys(f"assets/{other}/") == [f"assets/{other}/keep"]
    with pytest.raises(ValueError):
        store.delete_prefix("assets")


def test_presigned_url_serves_the_object_and_expires(store: ObjectStore) -> None:
    key = asset_key(ASSET, "poster.jpg")
    store.put_bytes(key, b"jpeg bytes", content_type="image/jpeg")
    with urllib.request.urlopen(store.presigned_get_url(key, expires_s=60), timeout=10) as response:
        assert response.read() == b"jpeg bytes"
    short = store.presigned_get_url(key, expires_s=1)
    time.sleep(2.5)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(short, timeout=10)
    assert caught.value.code == 403


def test_wrong_credentials_are_reported_as_unavailable_not_missing(s3_server) -> None:
    bad = ObjectStore(s3_server.settings(bucket="storage-tests", secret_key="wrong-secret"))
    with pytest.raises(StorageUnavailable, match="credentials"):
        bad.stat(asset_key(ASSET, "x"))
    assert not bad.ping()


def test_dead_endpoint_fails_fast(tmp_path: Path) -> None:
    dead = ObjectStore(S3Settings(endpoint=f"127.0.0.1:{free_port()}", bucket="nowhere"))
    started = time.monotonic()
    with pytest.raises(StorageUnavailable, match="unreachable"):
        dead.ensure_bucket()
    assert not dead.ping()
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("part", ["../escape", "/abs", "a/../../b", "ctl\x01", ""])
def test_asset_keys_cannot_escape(part: str) -> None:
    with pytest.raises(ValueError):
        asset_key(ASSET, part)


def test_asset_ids_are_validated() -> None:
    with pytest.raises(ValueError):
        asset_key("../../etc", "x")
