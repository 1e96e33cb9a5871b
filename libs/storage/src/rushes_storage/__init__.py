"""S3 object storage through the minio SDK: buckets, streaming put/get with checksums, asset keys."""

from rushes_storage.errors import ChecksumMismatch, ObjectNotFound, ObjectTooLarge, StorageUnavailable
from rushes_storage.keys import asset_key, check_key
from rushes_storage.store import ObjectStore, StoredObject

__all__ = [
    "ChecksumMismatch",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectTooLarge",
    "StorageUnavailable",
    "StoredObject",
    "asset_key",
    "check_key",
]
