"""Errors raised by the object stores (:mod:`archive.stores`).

Each failure has its own class in one of the families of :mod:`standards.errors`; backend exceptions
(``OSError``, ``minio.error.S3Error``, ``urllib3`` errors) are translated into these at the edge of each
backend, so callers never see a backend type. Messages name the key and show expected and found values.
"""

from __future__ import annotations

from standards.errors import BadInput, StorageError, StorageUnavailable, VerificationFailed


class InvalidKey(BadInput):
    """An object key breaks the key rules of :func:`archive.stores.keys.validate_key`."""

    code = "invalid_key"


class ObjectNotFound(StorageError):
    """No object is stored under the key."""

    code = "object_not_found"

    def __init__(self, key: str) -> None:
        super().__init__(f"object {key!r} does not exist in the store", path=key)
        self.key = key


class ObjectConflict(VerificationFailed):
    """A different object already exists under the key; stored objects are never overwritten."""

    code = "object_conflict"


class ChecksumMismatch(VerificationFailed):
    """The bytes offered for a put do not match the declared size or SHA-256; nothing was stored."""

    code = "checksum_mismatch"


class StoreUnavailable(StorageUnavailable):
    """The store cannot be reached or cannot accept writes now (endpoint down, bucket missing, disk full)."""

    code = "store_unavailable"


class StoreError(StorageError):
    """The store refused or failed an operation for a reason that is not an outage."""

    code = "store_error"


class StoreMisconfigured(StoreError):
    """The store is reachable but not set up as configured (e.g. a bucket without Object Lock)."""

    code = "store_misconfigured"


class S3StoreError(StoreError):
    """An S3 error response that has no more specific class; ``s3_code`` is the S3 error code."""

    code = "s3_store_error"

    def __init__(self, message: str, *, s3_code: str | None, path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.s3_code = s3_code


class FsStoreError(StoreError):
    """A filesystem error of the fs store that is not an outage (see :mod:`archive.stores.fs`)."""

    code = "fs_store_error"
