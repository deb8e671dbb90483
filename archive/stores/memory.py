"""In-memory object store (``name = "memory"``): a dict with the same semantics as the real backends.

Meant for tests and throw-away runs; nothing survives the process. It records ``retain_until`` like an
S3 bucket with Object Lock (mode ``COMPLIANCE``) so code that reads retention can be tested without S3.
Thread-safe through one lock. Leaves persistence and streaming to the fs and s3 backends.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from archive.stores.base import (
    COMPLIANCE,
    DEFAULT_CONTENT_TYPE,
    HashingReader,
    ObjectInfo,
    PutResult,
    check_declared,
    check_retain_until,
    decide_existing,
)
from archive.stores.errors import ObjectNotFound
from archive.stores.keys import validate_key


@dataclass(frozen=True)
class _Stored:
    data: bytes
    sha256: str
    content_type: str
    retain_until: datetime | None


class MemoryStore:
    """A dict-backed :class:`~archive.stores.base.ObjectStore`."""

    name = "memory"

    def __init__(self) -> None:
        self._objects: dict[str, _Stored] = {}
        self._lock = threading.Lock()

    def put_file(
        self,
        key: str,
        path: Path,
        *,
        sha256: str,
        size: int,
        retain_until: datetime | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> PutResult:
        """See :meth:`ObjectStore.put_file`; reads the whole file into memory.

        Raises:
            InvalidKey, ChecksumMismatch, ObjectConflict: see :class:`~archive.stores.base.ObjectStore`.
            OSError: the source file cannot be read.
        """
        validate_key(key)
        sha256 = check_declared(sha256, size)
        check_retain_until(retain_until)
        with self._lock:
            existing = self._objects.get(key)
        if existing is not None:
            return decide_existing(
                key, size=size, sha256=sha256, found_size=len(existing.data), found_sha256=existing.sha256
            )
        with path.open("rb") as src:
            reader = HashingReader(src, key=key, size=size, sha256=sha256)
            data = b"".join(iter(lambda: reader.read(1024 * 1024), b""))
        return self._publish(key, _Stored(data, sha256, content_type, retain_until))

    def adopt_file(
        self,
        key: str,
        path: Path,
        *,
        sha256: str,
        size: int,
        retain_until: datetime | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> PutResult:
        """Store a staging file; this backend cannot take files over, so it stores a copy (see put_file)."""
        return self.put_file(
            key, path, sha256=sha256, size=size, retain_until=retain_until, content_type=content_type
        )

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        retain_until: datetime | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> PutResult:
        """See :meth:`ObjectStore.put_bytes`.

        Raises:
            InvalidKey, ObjectConflict: see :class:`~archive.stores.base.ObjectStore`.
        """
        validate_key(key)
        check_retain_until(retain_until)
        stored = _Stored(bytes(data), hashlib.sha256(data).hexdigest(), content_type, retain_until)
        return self._publish(key, stored)

    def _publish(self, key: str, stored: _Stored) -> PutResult:
        with self._lock:
            existing = self._objects.get(key)
            if existing is None:
                self._objects[key] = stored
                return PutResult(key=key, created=True)
        return decide_existing(
            key,
            size=len(stored.data),
            sha256=stored.sha256,
            found_size=len(existing.data),
            found_sha256=existing.sha256,
        )

    def _get(self, key: str) -> _Stored:
        validate_key(key)
        with self._lock:
            stored = self._objects.get(key)
        if stored is None:
            raise ObjectNotFound(key)
        return stored

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A reader over the stored bytes.

        Raises:
            InvalidKey, ObjectNotFound: see :class:`~archive.stores.base.ObjectStore`.
        """
        return io.BytesIO(self._get(key).data)

    def stat(self, key: str) -> ObjectInfo:
        """Size, SHA-256 and the recorded retention (mode ``COMPLIANCE`` when ``retain_until`` was given).

        Raises:
            InvalidKey, ObjectNotFound: see :class:`~archive.stores.base.ObjectStore`.
        """
        stored = self._get(key)
        return ObjectInfo(
            key=key,
            size=len(stored.data),
            sha256=stored.sha256,
            retain_until=stored.retain_until,
            retention_mode=COMPLIANCE if stored.retain_until is not None else None,
            legal_hold=False,
        )

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored.

        Raises:
            InvalidKey: the key breaks the key rules.
        """
        validate_key(key)
        with self._lock:
            return key in self._objects

    def iter_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` in key order (a snapshot taken when iteration starts)."""
        with self._lock:
            items = sorted((k, len(v.data)) for k, v in self._objects.items() if k.startswith(prefix))
        for key, size in items:
            yield ObjectInfo(key=key, size=size)

    def check_ready(self) -> None:
        """Always ready."""
