"""ObjectStore against a real S3 server (SeaweedFS from the s3_server fixture) and a dead endpoint."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from rushes_config import S3Settings
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
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def store(s3_server) -> ObjectStore:
    store = ObjectStore(s3_server.settings(bucket="storage-tests", part_size_bytes=5 * MIB))
    store.ensure_bucket()
    store.ensure_bucket()  # idempotent
    return store


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_round_trip_keeps_bytes_and_checksum(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    key = asset_key(ASSET, "original.mov")
    stored = store.put_file(key, src, content_type="video/quicktime", metadata={"filename-hex": "6869"})
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    info = store.stat(key)
    assert info is not None
    assert (info.size, info.sha256, info.content_type) == (len(data), stored.sha256, "video/quicktime")
    assert info.etag
    out = tmp_path / "out.bin"
    fetched = store.get_file(key, out)
    assert out.read_bytes() == data
    assert fetched.sha256 == stored.sha256
    assert store.get_bytes(key) == data
    assert _leftovers(tmp_path) == []


def test_multipart_upload_of_a_file_larger_than_a_part(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(12 * MIB))  # parts of 5 + 5 + 2 MiB
    key = asset_key(ASSET, "big.bin")
    stored = store.put_file(key, src)
    assert stored.etag.endswith("-3"), f"expected a 3-part multipart ETag, got {stored.etag!r}"
    out = tmp_path / "big.out"
    store.get_file(key, out)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == stored.sha256


def test_upload_with_a_wrong_checksum_is_aborted(store: ObjectStore, tmp_path: Path) -> None:
    """The file on disk is not what the caller hashed (it changed): nothing may be stored."""
    for size in (1000, 11 * MIB):  # single PUT and multipart
        src = tmp_path / f"changed-{size}.bin"
        src.write_bytes(os.urandom(size))
        key = asset_key(ASSET, f"changed-{size}.bin")
        with pytest.raises(ChecksumMismatch, match="changed while uploading"):
            store.put_file(key, src, sha256="0" * 64)
        assert store.stat(key) is None


def test_tampered_object_is_detected_on_read(store: ObjectStore, tmp_path: Path) -> None:
    key = asset_key(ASSET, "tampered.bin")
    recorded = hashlib.sha256(b"the real bytes").hexdigest()
    # Written behind ObjectStore's back: the bytes no longer match the recorded checksum.
    store.client.put_object(
        store.bucket, key, io.BytesIO(b"the FAKE bytes"), 14, metadata={"sha256": recorded}
    )
    out = tmp_path / "a.out"
    with pytest.raises(ChecksumMismatch, match="does not match"):
        store.get_file(key, out)
    assert not out.exists()
    assert _leftovers(tmp_path) == []
    with pytest.raises(ChecksumMismatch):
        store.get_bytes(key)


def test_size_limit_on_read(store: ObjectStore, tmp_path: Path) -> None:
    key = asset_key(ASSET, "limit.bin")
    store.put_bytes(key, b"x" * 1000)
    with pytest.raises(ObjectTooLarge):
        store.get_file(key, tmp_path / "x", max_bytes=999)
    with pytest.raises(ObjectTooLarge):
        store.get_bytes(key, max_bytes=10)
    assert list(tmp_path.iterdir()) == []
    assert store.get_bytes(key, max_bytes=1000) == b"x" * 1000


def test_missing_object(store: ObjectStore, tmp_path: Path) -> None:
    key = asset_key(ASSET, "absent.bin")
    assert store.stat(key) is None
    with pytest.raises(ObjectNotFound, match=r"absent\.bin"):
        store.get_file(key, tmp_path / "absent")
    with pytest.raises(ObjectNotFound):
        store.get_bytes(key)
    assert list(tmp_path.iterdir()) == []


def test_delete_and_delete_prefix(store: ObjectStore) -> None:
    mine, neighbour = ASSET[:30] + "00", ASSET[:30] + "001"  # one id is a prefix of the other
    for name in ("a", "b", "c/d"):
        store.put_bytes(asset_key(mine, name), b"1")
    store.put_bytes(asset_key(neighbour, "keep"), b"1")
    assert store.list_keys(asset_key(mine)) == [asset_key(mine, n) for n in ("a", "b", "c/d")]
    assert store.delete_prefix(asset_key(mine)) == 3
    assert store.list_keys(asset_key(mine)) == []
    assert store.list_keys(asset_key(neighbour)) == [asset_key(neighbour, "keep")]
    store.delete([asset_key(neighbour, "keep"), asset_key(neighbour, "never-existed")])
    assert store.stat(asset_key(neighbour, "keep")) is None
    with pytest.raises(ValueError):
        store.delete_prefix(f"assets/{mine}")  # no trailing slash: would also match neighbours


def test_presigned_url_serves_the_object_and_expires(store: ObjectStore) -> None:
    key = asset_key(ASSET, "poster.jpg")
    store.put_bytes(key, b"jpeg bytes", content_type="image/jpeg")
    with urllib.request.urlopen(store.presigned_get_url(key), timeout=10) as response:
        assert response.read() == b"jpeg bytes"
    assert "X-Amz-Expires=900" in store.presigned_get_url(key)  # settings.presign_expiry_s default
    short = store.presigned_get_url(key, expires_s=1)
    time.sleep(2.5)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(short, timeout=10)
    assert caught.value.code == 403
    with pytest.raises(ValueError):
        store.presigned_get_url(key, expires_s=8 * 86400)


def test_calls_are_timed_in_the_dependency_histogram(store: ObjectStore) -> None:
    labels = {"dependency": "s3", "operation": "put"}
    before = REGISTRY.get_sample_value("rushes_dependency_call_duration_seconds_count", labels) or 0.0
    store.put_bytes(asset_key(ASSET, "timed.txt"), b"t")
    after = REGISTRY.get_sample_value("rushes_dependency_call_duration_seconds_count", labels)
    assert after == before + 1


def test_wrong_credentials_are_unavailable_not_missing(s3_server) -> None:
    bad = ObjectStore(s3_server.settings(bucket="storage-tests", secret_key="wrong-secret"))
    with pytest.raises(StorageUnavailable, match="credentials"):
        bad.stat(asset_key(ASSET, "x"))
    assert bad.ping() is False


def test_unknown_bucket_reads_as_missing_objects(s3_server) -> None:
    store = ObjectStore(s3_server.settings(bucket="never-created"))
    assert store.ping() is True  # the store answers; a bucket that does not exist is not an outage
    assert store.stat(asset_key(ASSET, "x")) is None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dead_endpoint_fails_within_seconds(tmp_path: Path) -> None:
    dead = ObjectStore(S3Settings(endpoint=f"127.0.0.1:{_free_port()}", bucket="nowhere"))
    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 10)
    calls = [
        dead.ensure_bucket,
        lambda: dead.put_file(asset_key(ASSET, "f.bin"), src),
        lambda: dead.get_file(asset_key(ASSET, "f.bin"), tmp_path / "out"),
        lambda: dead.stat(asset_key(ASSET, "f.bin")),
        lambda: dead.list_keys(asset_key(ASSET)),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="unreachable"):
            call()
        assert time.monotonic() - started < 5.0
    started = time.monotonic()
    assert dead.ping() is False
    assert time.monotonic() - started < 5.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]
