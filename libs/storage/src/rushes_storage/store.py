"""ObjectStore: the S3 bucket every service shares, through the minio SDK, with checksums everywhere.

Every object written here carries its SHA-256 as user metadata (x-amz-meta-sha256), and every read
verifies size and SHA-256 before handing bytes out, so a torn upload, a replaced object or a bad
disk never turns into a wrong proxy or transcript. Network failures map to StorageUnavailable
within seconds: bounded urllib3 retries and short connect timeouts, never minutes of backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, Final, TypeVar

import certifi
import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import InvalidResponseError, S3Error, ServerError
from rushes_config import S3Settings

from rushes_storage.errors import (
    ChecksumMismatch,
    ObjectNotFound,
    ObjectTooLarge,
    StorageUnavailable,
)
from rushes_storage.keys import check_key, check_prefix

try:  # rushes_metrics is optional for tools that only move files around
    from rushes_metrics import init_dependency_labels, time_dependency_call
except ImportError:  # pragma: no cover - exercised only without rushes_metrics installed
    init_dependency_labels = None  # type: ignore[assignment]
    time_dependency_call = None  # type: ignore[assignment]

T = TypeVar("T")

SHA256_METADATA: Final = "sha256"  # sent as x-amz-meta-sha256
DEPENDENCY: Final = "s3"
OPERATIONS: Final = ("ensure_bucket", "put", "get", "stat", "delete", "list", "presign", "ping")
CONNECT_TIMEOUT_S: Final = 2.0
READ_TIMEOUT_S: Final = 60.0  # a part upload's response may wait for the server to persist 16 MiB+
RETRIES: Final = 2  # attempts after the first, for connection errors and 5xx answers
DOWNLOAD_CHUNK: Final = 1024 * 1024
# S3 error codes that mean the store (or its configuration) is at fault, not the caller.
_CREDENTIAL_CODES: Final = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"})
_UNAVAILABLE_CODES: Final = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "XMinioServerNotInitialized"}
)


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str
    sha256: str  # hex; "" when the object was not written by ObjectStore and was not read fully
    content_type: str


def _http_client(read_timeout_s: float) -> urllib3.PoolManager:
    retry = urllib3.Retry(
        total=RETRIES,
        connect=RETRIES,
        read=1,
        backoff_factor=0.2,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=None,  # S3 PUT/POST of a part are idempotent: retry them too
        raise_on_status=False,  # let minio read the final 5xx body and raise ServerError
    )
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=read_timeout_s),
        retries=retry,
        maxsize=16,
        block=False,
        # The same TLS verification minio's own client would set up (used when settings.secure).
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
    )


class _HashingReader(io.RawIOBase):
    """Feeds minio the file while hashing it; refuses to deliver the last byte of a wrong file.

    Raising before the upload completes makes minio abort the multipart upload, so a file that
    changed on disk between hashing and uploading never becomes an object.
    """

    def __init__(self, handle: BinaryIO, size: int, expected_sha256: str) -> None:
        self.handle, self.size, self.expected = handle, size, expected_sha256
        self.digest = hashlib.sha256()
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.handle.read(n if n is not None and n >= 0 else self.size - self.consumed)
        self.consumed += len(data)
        self.digest.update(data)
        if self.consumed > self.size:
            raise ChecksumMismatch(f"file grew while uploading: more than {self.size} bytes")
        if self.consumed == self.size and self.digest.hexdigest() != self.expected:
            raise ChecksumMismatch(
                f"file changed while uploading: sha256 {self.digest.hexdigest()} != {self.expected}"
            )
        return data


class _BackgroundDigest:
    """SHA-256 of a stream computed on a second thread while the next chunk is read from the
    network (hashlib and socket reads both release the GIL): verifying every read then costs
    about the time of the slower of the two, not their sum."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        self._pending: Future[None] | None = None

    def update(self, chunk: bytes) -> None:
        if self._pending is not None:
            self._pending.result()
        self._pending = self._pool.submit(self._digest.update, chunk)

    def hexdigest(self) -> str:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        return self._digest.hexdigest()

    def __enter__(self) -> _BackgroundDigest:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        self._pool.shutdown(wait=True)


def sha256_file(path: Path, chunk: int = DOWNLOAD_CHUNK) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _metadata_value(metadata: Any, name: str) -> str:
    """minio returns response headers; user metadata arrives as x-amz-meta-<name>."""
    if metadata is None:
        return ""
    wanted = f"x-amz-meta-{name}".lower()
    for key, value in metadata.items():
        if key.lower() == wanted:
            return str(value)
    return ""


class ObjectStore:
    """One bucket on an S3-compatible store. Thread-safe; every method is synchronous."""

    def __init__(self, settings: S3Settings, *, timeout_s: float = READ_TIMEOUT_S) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self.endpoint = settings.endpoint
        self.client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key.get_secret_value(),
            secure=settings.secure,
            # A fixed region spares a GetBucketLocation round trip and lets URLs be presigned offline.
            region=settings.region or "us-east-1",
            http_client=_http_client(timeout_s),
        )
        if init_dependency_labels is not None:
            init_dependency_labels(DEPENDENCY, OPERATIONS)

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _observed(self, operation: str) -> Iterator[None]:
        if time_dependency_call is None:
            yield
            return
        with time_dependency_call(DEPENDENCY, operation):
            yield

    def _call(self, operation: str, key: str, fn: Callable[[], T]) -> T:
        """Run one SDK call (timed for the metrics), translating failures into this module's exceptions."""
        with self._observed(operation):
            return self._untimed(operation, key, fn)

    def _untimed(self, operation: str, key: str, fn: Callable[[], T]) -> T:
        """_call without the timing: for each chunk of a body already counted as one call."""
        try:
            return fn()
        except S3Error as exc:
            raise self._translate_s3_error(operation, key, exc) from exc
        except (ServerError, InvalidResponseError) as exc:
            raise StorageUnavailable(
                f"object store at {self.endpoint} failed during {operation} of {key!r}: {exc}"
            ) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
                raise  # a local file problem, not the store's
            reason = getattr(exc, "reason", None) or exc
            raise StorageUnavailable(
                f"object store at {self.endpoint} is unreachable ({operation} {key!r}): {reason}"
            ) from exc

    def _translate_s3_error(self, operation: str, key: str, exc: S3Error) -> Exception:
        if exc.code in {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}:
            return ObjectNotFound(f"no object {key!r} in bucket {self.bucket!r}")
        if exc.code == "NoSuchBucket":
            return StorageUnavailable(
                f"bucket {self.bucket!r} does not exist at {self.endpoint} (run ensure_bucket first)"
            )
        if exc.code == "PreconditionFailed":
            return ChecksumMismatch(f"object {key!r} was replaced while it was being read")
        if exc.code in _CREDENTIAL_CODES:
            return StorageUnavailable(
                f"object store at {self.endpoint} refused the credentials during {operation} ({exc.code})"
            )
        if exc.code in _UNAVAILABLE_CODES:
            return StorageUnavailable(
                f"object store refused {operation} of {key!r}: {exc.code}: {exc.message}"
            )
        return StorageUnavailable(
            f"object store error during {operation} of {key!r}: {exc.code}: {exc.message}"
        )

    # -- buckets and health ----------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist. Idempotent and safe to race with other replicas."""

        def create() -> None:
            if self.client.bucket_exists(self.bucket):
                return
            try:
                self.client.make_bucket(self.bucket)
            except S3Error as exc:
                if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise

        self._call("ensure_bucket", self.bucket, create)

    def ping(self) -> bool:
        """True when the store answers with valid credentials (for health checks); never raises."""
        try:
            self._call("ping", self.bucket, lambda: self.client.bucket_exists(self.bucket))
        except StorageUnavailable:
            return False
        return True

    async def reachable(self) -> bool:
        """ping() off the event loop: a dependency check for gRPC health (rushes_grpc.DependencyWatch)."""
        return await asyncio.to_thread(self.ping)

    # -- writing ---------------------------------------------------------------------------

    def put_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
        sha256: str | None = None,
    ) -> StoredObject:
        """Upload `path` to `key`, streaming in parts of settings.part_size_bytes.

        The SHA-256 (given by a caller who already hashed the file, else computed first) is stored
        as x-amz-meta-sha256 and checked again over the bytes actually sent: if the file changes
        mid-upload the multipart upload is aborted and ChecksumMismatch raised.
        """
        check_key(key)
        path = Path(path)
        size = path.stat().st_size
        expected = (sha256 or sha256_file(path)).lower()
        user_metadata = {**(metadata or {}), SHA256_METADATA: expected}
        with path.open("rb") as handle:
            reader = _HashingReader(handle, size, expected)
            result = self._call(
                "put",
                key,
                lambda: self.client.put_object(
                    self.bucket,
                    key,
                    reader,  # type: ignore[arg-type]
                    length=size,
                    content_type=content_type,
                    metadata=user_metadata,  # type: ignore[arg-type]
                    part_size=self.settings.part_size_bytes,
                ),
            )
        return StoredObject(key, size, (result.etag or "").strip('"'), expected, content_type)

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> StoredObject:
        """Upload `data` (small objects: reports, subtitles, LUTs) with its SHA-256 in metadata."""
        check_key(key)
        digest = hashlib.sha256(data).hexdigest()
        user_metadata = {**(metadata or {}), SHA256_METADATA: digest}
        result = self._call(
            "put",
            key,
            lambda: self.client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                length=len(data),
                content_type=content_type,
                metadata=user_metadata,  # type: ignore[arg-type]
                part_size=self.settings.part_size_bytes,
            ),
        )
        return StoredObject(key, len(data), (result.etag or "").strip('"'), digest, content_type)

    # -- reading ---------------------------------------------------------------------------

    def stat(self, key: str) -> StoredObject | None:
        """The object's size, ETag, recorded SHA-256 and content type; None when there is none."""
        check_key(key)
        try:
            info = self._call("stat", key, lambda: self.client.stat_object(self.bucket, key))
        except ObjectNotFound:
            return None
        return StoredObject(
            key=key,
            size=int(info.size or 0),
            etag=(info.etag or "").strip('"'),
            sha256=_metadata_value(info.metadata, SHA256_METADATA).lower(),
            content_type=info.content_type or "",
        )

    def _open(self, key: str, max_bytes: int | None) -> tuple[StoredObject, Any]:
        """One GET: the object's description from the response headers (size, ETag, recorded
        SHA-256), and the response to stream its body from. One round trip rather than a HEAD
        then a GET, and the body is by construction the version the headers describe. Raises
        ObjectNotFound, or ObjectTooLarge before any byte of the body is read."""
        response = self._call("get", key, lambda: self.client.get_object(self.bucket, key))
        headers = response.headers
        info = StoredObject(
            key=key,
            size=int(headers.get("Content-Length") or 0),
            etag=(headers.get("ETag") or "").strip('"'),
            sha256=(headers.get(f"x-amz-meta-{SHA256_METADATA}") or "").lower(),
            content_type=headers.get("Content-Type") or "",
        )
        if max_bytes is not None and info.size > max_bytes:
            response.close()
            response.release_conn()
            raise ObjectTooLarge(f"object {key!r} is {info.size} bytes; the limit is {max_bytes}")
        return info, response

    def _stream(self, info: StoredObject, response: Any, max_bytes: int | None) -> Iterator[bytes]:
        """The body's chunks, never more than the size the headers announced."""
        received = 0
        try:
            while True:
                chunk = self._untimed("get", info.key, lambda: response.read(DOWNLOAD_CHUNK))
                if not chunk:
                    break
                received += len(chunk)
                if max_bytes is not None and received > max_bytes:
                    raise ObjectTooLarge(
                        f"object {info.key!r} grew past the {max_bytes} byte limit while reading"
                    )
                if received > info.size:
                    raise ChecksumMismatch(f"object {info.key!r} sent more than its {info.size} bytes")
                yield chunk
        finally:
            response.close()
            response.release_conn()

    @staticmethod
    def _verify(info: StoredObject, size: int, digest: str) -> None:
        if size != info.size:
            raise ChecksumMismatch(f"object {info.key!r}: received {size} bytes, expected {info.size}")
        if info.sha256 and digest != info.sha256:
            raise ChecksumMismatch(
                f"object {info.key!r}: sha256 {digest} does not match recorded {info.sha256}"
            )

    def get_file(self, key: str, path: Path, *, max_bytes: int | None = None) -> StoredObject:
        """Download `key` to `path` (via a temporary file renamed into place), verifying size and SHA-256.

        Raises ObjectNotFound, ObjectTooLarge (checked before any byte is fetched), ChecksumMismatch
        (nothing is left at `path`), or StorageUnavailable.
        """
        check_key(key)
        path = Path(path)
        info, response = self._open(key, max_bytes)
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        temp_path = Path(temp_name)
        try:
            digest, size = _BackgroundDigest(), 0
            with os.fdopen(handle, "wb") as out, digest:
                for chunk in self._stream(info, response, max_bytes):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            self._verify(info, size, digest.hexdigest())
            os.chmod(temp_path, 0o644)
            os.replace(temp_path, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp_path.unlink()
            raise
        return StoredObject(key, size, info.etag, digest.hexdigest(), info.content_type)

    def get_bytes(self, key: str, *, max_bytes: int | None = None) -> bytes:
        """The object's bytes, verified like get_file. Use max_bytes: this holds it all in memory."""
        check_key(key)
        info, response = self._open(key, max_bytes)
        chunks, digest = [], _BackgroundDigest()
        with digest:
            for chunk in self._stream(info, response, max_bytes):
                digest.update(chunk)
                chunks.append(chunk)
        data = b"".join(chunks)
        self._verify(info, len(data), digest.hexdigest())
        return data

    # -- listing and deleting --------------------------------------------------------------

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under `prefix` (recursive), sorted. An empty prefix lists the bucket."""
        if prefix:
            check_prefix(prefix)
        return self._call(
            "list",
            prefix,
            lambda: sorted(
                obj.object_name
                for obj in self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
                if obj.object_name is not None
            ),
        )

    def delete(self, keys: Iterable[str]) -> None:
        """Delete `keys` (absent keys are not an error). Raises StorageUnavailable if any deletion failed."""
        batch = [check_key(k) for k in keys]
        for start in range(0, len(batch), 1000):  # S3 DeleteObjects takes at most 1000 keys
            chunk = batch[start : start + 1000]

            def remove(chunk: list[str] = chunk) -> list[Any]:
                errors = self.client.remove_objects(self.bucket, [DeleteObject(k) for k in chunk])
                return [e for e in errors if e.code not in {"NoSuchKey", "NoSuchObject"}]

            failures = self._call("delete", chunk[0], remove)
            if failures:
                first = failures[0]
                raise StorageUnavailable(
                    f"could not delete {len(failures)} object(s), e.g. {first.name!r}: {first.code}"
                )

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix` (which must end with '/'); return how many there were."""
        check_prefix(prefix)
        keys = self.list_keys(prefix)
        self.delete(keys)
        return len(keys)

    def presigned_get_url(self, key: str, expires_s: int | None = None) -> str:
        """A short-lived GET URL (default settings.presign_expiry_s) for players and editors' tools."""
        check_key(key)
        expiry = self.settings.presign_expiry_s if expires_s is None else expires_s
        if not 1 <= expiry <= 7 * 86400:
            raise ValueError(f"presigned URL expiry must be 1 s to 7 days, got {expiry} s")
        return self._call(
            "presign",
            key,
            lambda: self.client.presigned_get_object(self.bucket, key, expires=timedelta(seconds=expiry)),
        )


def wait_until_available(store: ObjectStore, timeout_s: float = 30.0, interval_s: float = 0.5) -> None:
    """Block until `store.ping()` succeeds (service start-up); raise StorageUnavailable after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not store.ping():
        if time.monotonic() >= deadline:
            raise StorageUnavailable(
                f"object store at {store.endpoint} not reachable after {timeout_s:.0f} s"
            )
        time.sleep(interval_s)
