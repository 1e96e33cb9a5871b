"""S3 object storage through the minio SDK: buckets, streaming put/get with checksums, asset keys.

Every object carries its SHA-256 as x-amz-meta-sha256 and every read verifies it; a dead store
raises StorageUnavailable within seconds. Methods are synchronous (the SDK is): async callers use
asyncio.to_thread.
"""

from rushes_storage.errors import (
    ChecksumMismatch,
    ObjectNotFound,
    ObjectTooLarge,
    StorageError,
    StorageUnavailable,
)
from rushes_storage.keys import asset_key, check_key, check_prefix, check_project, project_key
from rushes_storage.store import ObjectStore, StoredObject, sha256_file, wait_until_available

__all__ = [
    "ChecksumMismatch",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectTooLarge",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
    "asset_key",
    "check_key",
    "check_prefix",
    "check_project",
    "project_key",
    "sha256_file",
    "wait_until_available",
]
