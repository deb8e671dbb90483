"""The backup store (a second :class:`~archive.stores.base.ObjectStore`) and reading and writing backup parts.

:func:`open_backup_store` builds the store ``settings.backup`` names exactly as
:func:`archive.stores.open_store` builds the main one (``fs``: a folder; ``s3``: another bucket or
endpoint), refusing the main store itself. The rest moves bytes with a SHA-256 computed while they
stream: :func:`fetch_to_file` (store → local file), :func:`read_small` (``backup.json``), and the
lookups of complete backups (:func:`complete_backup_ids`, :func:`resolve_backup_id`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from archive.backup.errors import BackupCorrupt, BackupNotConfigured, BackupNotFound, BackupStoreIsMainStore
from archive.backup.layout import (
    MANIFEST,
    PREFIX,
    BackupManifest,
    PartDigest,
    complete_backups,
    is_backup_id,
    parse_manifest,
    part_key,
)
from archive.settings import Settings
from archive.stores import FsStore, ObjectNotFound, ObjectStore, StoreUnavailable
from integrity.hashing import CHUNK, digests_equal

MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def _inside(a: Path, b: Path) -> bool:
    return a == b or b in a.parents


def open_backup_store(settings: Settings, *, prepare: bool = False) -> ObjectStore:
    """The store ``settings.backup`` configures; with ``prepare`` make it ready for writing.

    ``prepare`` creates an S3 bucket that does not exist, but never an fs backup folder: the folder must
    exist (a share that is not mounted must not silently become a folder on the local disk).

    Raises:
        BackupNotConfigured: ``backup.store`` is unset, or its ``path`` / ``s3`` is missing.
        BackupStoreIsMainStore: the backup store is the main store (or one folder holds the other).
        StoreUnavailable, StoreMisconfigured, StoreError: only with ``prepare``; StoreUnavailable also
            when the fs backup folder does not exist.
    """
    backup = settings.backup
    if backup.store is None:
        raise BackupNotConfigured("no backup store configured: set EDOSSIER_BACKUP__STORE to fs or s3")
    if backup.store == "fs":
        if backup.path is None:
            raise BackupNotConfigured("EDOSSIER_BACKUP__STORE=fs needs EDOSSIER_BACKUP__PATH (a folder)")
        root = backup.path.expanduser().resolve()
        if settings.store == "fs":
            main = settings.store_dir.expanduser().resolve()
            if _inside(root, main) or _inside(main, root):
                raise BackupStoreIsMainStore(
                    f"backup path {root}: expected a folder outside the object store {main}, found it inside "
                    "or around it"
                )
        fs = FsStore(root)
        if prepare:
            if not root.is_dir():  # never create it: an unmounted share would fill the local disk instead
                raise StoreUnavailable(
                    f"backup folder {root}: expected an existing folder (mounted disk or share), found none; "
                    "create or mount it first",
                    path=str(root),
                )
            fs.ensure_root()
        return fs
    if backup.s3 is None:
        raise BackupNotConfigured(
            "EDOSSIER_BACKUP__STORE=s3 needs EDOSSIER_BACKUP__S3__BUCKET (and endpoint)"
        )
    if settings.store == "s3" and (backup.s3.endpoint, backup.s3.bucket) == (
        settings.s3.endpoint,
        settings.s3.bucket,
    ):
        raise BackupStoreIsMainStore(
            f"backup bucket {backup.s3.bucket!r} at {backup.s3.endpoint}: expected another bucket or endpoint "
            "than the object store's, found the same"
        )
    from archive.stores.s3 import S3Store  # minio is imported only when S3 is used

    s3 = S3Store(backup.s3)
    if prepare:
        s3.ensure_bucket()
    return s3


def describe_store(store: ObjectStore) -> str:
    """Where a store keeps its objects, for messages and cache keys (``fs:/mnt/backup``, ``s3:host/bucket``)."""
    root = getattr(store, "root", None)
    if root is not None:
        return f"{store.name}:{root}"
    settings = getattr(store, "settings", None)
    if settings is not None:
        return f"{store.name}:{settings.endpoint}/{settings.bucket}"
    return f"{store.name}:{id(store)}"


def complete_backup_ids(store: ObjectStore) -> list[str]:
    """Ids of every complete backup in ``store``, oldest first.

    Raises:
        StoreUnavailable, StoreError: the store cannot be listed.
    """
    return complete_backups(info.key for info in store.iter_objects(PREFIX))


def resolve_backup_id(store: ObjectStore, requested: str) -> str:
    """``requested`` if it names a complete backup; the newest complete one for ``latest``.

    Raises:
        BackupNotFound: no complete backup has that id, or there is none at all.
        StoreUnavailable, StoreError: the store cannot be read.
    """
    if requested == "latest":
        ids = complete_backup_ids(store)
        if not ids:
            raise BackupNotFound(
                f"backup store {describe_store(store)}: no complete backup yet (run edossier backup)"
            )
        return ids[-1]
    if not is_backup_id(requested):
        raise BackupNotFound(
            f"backup id: expected 'latest' or YYYYMMDDTHHMMSS.ffffffZ-<hex>, found {requested!r}"
        )
    if not store.exists(part_key(requested, MANIFEST)):
        raise BackupNotFound(
            f"backup {requested} in {describe_store(store)}: no {MANIFEST} (absent, or incomplete: never restored)"
        )
    return requested


def read_small(store: ObjectStore, key: str, limit: int = MAX_MANIFEST_BYTES) -> bytes:
    """The bytes of a small object (at most ``limit``).

    Raises:
        BackupCorrupt: the object is larger than ``limit``.
        ObjectNotFound, StoreUnavailable, StoreError: the store failed.
    """
    with store.open(key) as src:
        data = src.read(limit + 1)
    if len(data) > limit:
        raise BackupCorrupt(f"{key}: expected at most {limit} bytes, found more", path=key)
    return data


def read_manifest(store: ObjectStore, backup_id: str) -> BackupManifest:
    """``backup.json`` of a backup, parsed.

    Raises:
        BackupNotFound: the backup has no ``backup.json``.
        BackupCorrupt: it does not parse.
        StoreUnavailable, StoreError: the store failed.
    """
    key = part_key(backup_id, MANIFEST)
    try:
        data = read_small(store, key)
    except ObjectNotFound:
        raise BackupNotFound(f"backup {backup_id}: no {MANIFEST} in {describe_store(store)}") from None
    return parse_manifest(data, backup_id)


def fetch_to_file(store: ObjectStore, key: str, path: Path) -> tuple[int, str]:
    """Stream object ``key`` into a new file ``path``; its size and SHA-256, computed while writing.

    Not fsync'd: the file is staging (the fs store fsyncs what it adopts; S3 reads it back to upload).

    Raises:
        ObjectNotFound, StoreUnavailable, StoreError: the store failed.
        OSError: the local file cannot be written.
    """
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, store.open(key) as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def fetch_part(store: ObjectStore, backup_id: str, name: str, expected: PartDigest, path: Path) -> Path:
    """Copy a part of a backup to ``path`` and check it against ``backup.json``.

    Raises:
        BackupCorrupt: the part is missing, or its size or SHA-256 differs from ``expected``.
        StoreUnavailable, StoreError: the store failed.
        OSError: the local file cannot be written.
    """
    key = part_key(backup_id, name)
    try:
        size, sha256 = fetch_to_file(store, key, path)
    except ObjectNotFound:
        raise BackupCorrupt(f"{key}: listed in {MANIFEST} but not in the backup store", path=key) from None
    if size != expected.size or not digests_equal(expected.sha256, sha256):
        raise BackupCorrupt(
            f"{key}: expected size {expected.size} sha256 {expected.sha256}, found size {size} sha256 {sha256}",
            path=key,
        )
    return path
