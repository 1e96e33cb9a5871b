"""ObjectStore: the S3 API through the minio SDK (MinIO in production, SeaweedFS locally).

Synchronous by design (the SDK is); async callers use asyncio.to_thread. A dead store fails in
seconds: bounded connect/read timeouts and a short retry policy instead of urllib3's defaults.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import certifi
import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from rushes_config import S3Settings
from rushes_metrics import time_dependency_call

from rushes_storage.errors import ChecksumMismatch, ObjectNotFound, ObjectTooLarge, StorageUnavailable
from rushes_storage.keys import check_key

log = logging.getLogger(__name__)
T = TypeVar("T")
CHUNK = 1024 * 1024
SHA256_META = "sha256"
_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound"}


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str = ""
    sha256: str = ""
    content_type: str = ""


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _http_client(timeout_s: float) -> urllib3.PoolManager:
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=min(3.0, timeout_s), read=timeout_s),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


class ObjectStore:
    def __init__(self, settings: S3Settings, *, timeout_s: float = 60.0) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self._client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key.get_secret_value(),
            secure=settings.secure,
            region=settings.region,
            http_client=_http_client(timeout_s),
        )

    # -- error mapping -------------------------------------------------------------------------
    def _call(self, operation: str, fn: Callable[[], T], key: str = "") -> T:
        with self._errors(operation, key), time_dependency_call("s3", operation):
            return fn()

    @contextmanager
    def _errors(self, operation: str, key: str = "") -> Iterator[None]:
        try:
            yield
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                raise ObjectNotFound(key or exc.object_name or "") from None
            if exc.code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
                raise StorageUnavailable(f"{operation}: credentials refused by the store ({exc.code})") from None
            raise StorageUnavailable(f"{operation} {key}: {exc.code}: {exc.message}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
                raise
            reason = getattr(exc, "reason", None) or exc
            raise StorageUnavailable(
                f"{operation}: object store at {self.settings.endpoint} unreachable ({type(reason).__name__})"
            ) from None

    # -- buckets -------------------------------------------------------------------------------
    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (safe to call from every replica at start)."""

        def ensure() -> None:
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise

        self._call("ensure_bucket", ensure)

    def ping(self) -> bool:
        try:
            self._call("ping", lambda: self._client.bucket_exists(self.bucket))
        except (StorageUnavailable, ObjectNotFound):
            return False
        return True

    # -- writes --------------------------------------------------------------------------------
    def put_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
        sha256: str | None = None,
    ) -> StoredObject:
        """Streaming (multipart above the part size) upload; the SHA-256 is stored as metadata."""
        check_key(key)
        digest = sha256 or _sha256_file(path)
        size = path.stat().st_size
        meta = {**(metadata or {}), SHA256_META: digest}
        with path.open("rb") as fh:
            result = self._call(
                "put",
                lambda: self._client.put_object(
                    self.bucket,
                    key,
                    fh,
                    size,
                    content_type=content_type,
                    metadata=meta,  # type: ignore[arg-type]
                    part_size=self.settings.part_size_bytes,
                    num_parallel_uploads=1,
                ),
                key,
            )
        return StoredObject(key=key, size=size, etag=result.etag or "", sha256=digest, content_type=content_type)

    def put_bytes(
        self, key: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> StoredObject:
        check_key(key)
        digest = hashlib.sha256(data).hexdigest()
        result = self._call(
            "put",
            lambda: self._client.put_object(
                self.bucket, key, io.BytesIO(data), len(data), content_type=content_type,
                metadata={SHA256_META: digest},  # type: ignore[arg-type]
            ),
            key,
        )  # fmt: skip
        return StoredObject(key=key, size=len(data), etag=result.etag or "", sha256=digest, content_type=content_type)

    # -- reads ---------------------------------------------------------------------------------
    def stat(self, key: str) -> StoredObject | None:
        check_key(key)
        try:
            info = self._call("stat", lambda: self._client.stat_object(self.bucket, key), key)
        except ObjectNotFound:
            return None
        meta = {k.lower(): v for k, v in (info.metadata or {}).items()}
        return StoredObject(
            key=key,
            size=int(info.size or 0),
            etag=info.etag or "",
            sha256=meta.get(f"x-amz-meta-{SHA256_META}", ""),
            content_type=info.content_type or "",
        )

    def get_file(self, key: str, path: Path, *, max_bytes: int | None = None) -> StoredObject:
        """Download to `path` (via a temp file, renamed at the end) and verify size and SHA-256."""
        info = self.stat(key)
        if info is None:
            raise ObjectNotFound(key)
        if max_bytes is not None and info.size > max_bytes:
            raise ObjectTooLarge(f"{key} is {info.size} bytes, more than the {max_bytes} byte limit")
        digest = hashlib.sha256()
        received = 0
        fd, tmp_name = tempfile.mkstemp(prefix=".part-", dir=path.parent)
        try:
            with open(fd, "wb") as out, self._errors("get", key), time_dependency_call("s3", "get"):
                response = self._client.get_object(self.bucket, key)
                try:
                    for chunk in response.stream(CHUNK):
                        received += len(chunk)
                        if max_bytes is not None and received > max_bytes:
                            raise ObjectTooLarge(f"{key} grew past the {max_bytes} byte limit while reading")
                        digest.update(chunk)
                        out.write(chunk)
                finally:
                    response.close()
                    response.release_conn()
            self._verify(info, received, digest.hexdigest())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return info

    def get_bytes(self, key: str, *, max_bytes: int | None = None) -> bytes:
        info = self.stat(key)
        if info is None:
            raise ObjectNotFound(key)
        if max_bytes is not None and info.size > max_bytes:
            raise ObjectTooLarge(f"{key} is {info.size} bytes, more than the {max_bytes} byte limit")
        with self._errors("get", key), time_dependency_call("s3", "get"):
            response = self._client.get_object(self.bucket, key)
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
        self._verify(info, len(data), hashlib.sha256(data).hexdigest())
        return data

    @staticmethod
    def _verify(info: StoredObject, size: int, sha256: str) -> None:
        if size != info.size:
            raise ChecksumMismatch(f"{info.key}: read {size} bytes, the store announced {info.size}")
        if info.sha256 and info.sha256 != sha256:
            raise ChecksumMismatch(f"{info.key}: SHA-256 of the bytes read differs from the stored checksum")

    def list_keys(self, prefix: str) -> list[str]:
        return self._call(
            "list",
            lambda: sorted(
                o.object_name for o in self._client.list_objects(self.bucket, prefix=prefix, recursive=True)
                if o.object_name
            ),
        )  # fmt: skip

    # -- deletes -------------------------------------------------------------------------------
    def delete(self, keys: Iterable[str]) -> None:
        targets = [DeleteObject(check_key(k)) for k in keys]
        if not targets:
            return

        def remove() -> None:
            errors = list(self._client.remove_objects(self.bucket, targets))
            if errors:
                raise StorageUnavailable(f"could not delete {len(errors)} objects: {errors[0]}")

        self._call("delete", remove)

    def delete_prefix(self, prefix: str) -> int:
        if not prefix or not prefix.endswith("/"):
            raise ValueError("delete_prefix needs a folder-like prefix ending in '/'")
        keys = self.list_keys(prefix)
        self.delete(keys)
        return len(keys)

    # -- sharing -------------------------------------------------------------------------------
    def presigned_get_url(self, key: str, expires_s: int | None = None) -> str:
        """A short-lived URL (settings.presign_expiry_s by default) for players and reviewers."""
        check_key(key)
        expiry = timedelta(seconds=expires_s or self.settings.presign_expiry_s)
        return self._call("presign", lambda: self._client.presigned_get_object(self.bucket, key, expires=expiry), key)
