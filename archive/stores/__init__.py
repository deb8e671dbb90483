"""Object stores: one write-once interface (:class:`ObjectStore`), three backends and key builders.

``open_store(settings)`` picks the backend named by ``settings.store``: ``fs`` (a folder,
``settings.store_dir``), ``s3`` (``settings.s3``, via the minio SDK) or ``memory``. Ingest, audit and the
API use only the interface; nothing here touches the catalog or the ledger.
"""

from __future__ import annotations

from archive.settings import Settings
from archive.stores.base import ObjectInfo, ObjectStore, PutResult
from archive.stores.errors import (
    ChecksumMismatch,
    FsStoreError,
    InvalidKey,
    ObjectConflict,
    ObjectNotFound,
    S3StoreError,
    StoreError,
    StoreMisconfigured,
    StoreUnavailable,
)
from archive.stores.fs import FsStore
from archive.stores.keys import aip_file_key, blob_key, manifest_key, validate_key
from archive.stores.memory import MemoryStore


def open_store(settings: Settings, *, prepare: bool = False) -> ObjectStore:
    """The object store ``settings.store`` names; with ``prepare`` also create its folder or bucket.

    Without ``prepare`` nothing is contacted or created (call ``check_ready()`` to probe).

    Raises:
        StoreUnavailable, StoreMisconfigured, StoreError: only with ``prepare``, when the folder or
            bucket cannot be created or an existing bucket lacks the configured Object Lock.
        ValueError: ``settings.store`` names no known backend.
    """
    if settings.store == "fs":
        fs = FsStore(settings.store_dir)
        if prepare:
            fs.ensure_root()
        return fs
    if settings.store == "s3":
        from archive.stores.s3 import S3Store  # minio is imported only when S3 is used

        s3 = S3Store(settings.s3)
        if prepare:
            s3.ensure_bucket()
        return s3
    if settings.store == "memory":
        return MemoryStore()
    raise ValueError(f"unknown store {settings.store!r}; expected fs, s3 or memory")


__all__ = [
    "ChecksumMismatch",
    "FsStore",
    "FsStoreError",
    "InvalidKey",
    "MemoryStore",
    "ObjectConflict",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "PutResult",
    "S3StoreError",
    "StoreError",
    "StoreMisconfigured",
    "StoreUnavailable",
    "aip_file_key",
    "blob_key",
    "manifest_key",
    "open_store",
    "validate_key",
]
