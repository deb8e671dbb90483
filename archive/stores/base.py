"""The object-store interface shared by every backend, and the pure decisions all backends make alike.

:class:`ObjectStore` is a :class:`typing.Protocol`: backends (``fs``, ``s3``, ``memory``) do not inherit
from it, they match it structurally and mypy checks that. The rules every backend keeps:

* Objects are never overwritten or deleted by the service (DESIGN.md "Object keys"; DA/T 70 BC-4 safety
  of preserved records). There is deliberately no ``delete``.
* ``put_*`` of a key that already holds the same size and SHA-256 is an idempotent no-op
  (``PutResult.created`` is ``False``); different content raises :class:`ObjectConflict`.
* The bytes written must hash to the declared SHA-256 and size, otherwise the put raises
  :class:`ChecksumMismatch` and leaves nothing behind.
* Keys follow :func:`archive.stores.keys.validate_key`.

This module also holds :class:`HashingReader` (verifies a stream against its declared digest while a
backend reads it) and :func:`decide_existing` (idempotent or conflict). It does no I/O of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from archive.stores.errors import ChecksumMismatch, ObjectConflict
from integrity.hashing import digests_equal

DEFAULT_CONTENT_TYPE = "application/octet-stream"
COMPLIANCE = "COMPLIANCE"


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows about one stored object.

    ``sha256`` is ``None`` when the backend cannot tell it without reading the object (fs, and every
    listing); retention fields are ``None`` when the backend does not keep them (see each backend).
    """

    key: str
    size: int
    sha256: str | None = None
    retain_until: datetime | None = None
    retention_mode: str | None = None
    legal_hold: bool | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class PutResult:
    """Outcome of a put: ``created`` is ``False`` when an identical object was already there."""

    key: str
    created: bool


@runtime_checkable
class ObjectStore(Protocol):
    """A write-once object store (see the module docstring for the rules every backend keeps)."""

    name: str  # "fs" | "s3" | "memory"

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
        """Store the file at ``path`` under ``key`` after checking it against ``sha256``/``size``.

        Raises:
            InvalidKey: the key breaks the key rules.
            ChecksumMismatch: the file does not have the declared size and SHA-256; nothing is stored.
            ObjectConflict: a different object already exists under the key.
            StoreUnavailable: the store cannot be reached or written now.
            StoreError: any other failure of the backend.
        """
        ...

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
        """Like :meth:`put_file` for a staging file the caller wrote and hashed itself.

        The caller promises that ``path`` is its own file, hashed to ``sha256`` while it was written,
        that nobody else can write it and that it removes the name afterwards. A backend may then
        take the file over without copying it (the filesystem store hard-links it into place); the
        others simply store it as :meth:`put_file` does.

        Raises:
            As :meth:`put_file`.
        """
        ...

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        retain_until: datetime | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> PutResult:
        """Store ``data`` under ``key`` (its SHA-256 is computed here).

        Raises:
            InvalidKey, ObjectConflict, StoreUnavailable, StoreError: as for :meth:`put_file`.
        """
        ...

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A streaming reader of the object (never buffered whole on fs and s3).

        Raises:
            InvalidKey: the key breaks the key rules.
            ObjectNotFound: nothing is stored under the key.
            StoreUnavailable, StoreError: the backend failed.
        """
        ...

    def stat(self, key: str) -> ObjectInfo:
        """What the store knows about the object under ``key``.

        Raises:
            InvalidKey, ObjectNotFound, StoreUnavailable, StoreError: as for :meth:`open`.
        """
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``.

        Raises:
            InvalidKey, StoreUnavailable, StoreError: as for :meth:`open`.
        """
        ...

    def iter_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every stored object whose key starts with ``prefix`` (key and size; see :class:`ObjectInfo`).

        Raises:
            StoreUnavailable, StoreError: the backend failed.
        """
        ...

    def check_ready(self) -> None:
        """Return if the store can serve requests now.

        Raises:
            StoreUnavailable: the endpoint, bucket or folder is not there or not usable.
            StoreMisconfigured: the store is reachable but not set up as configured.
        """
        ...


def check_declared(sha256: str, size: int) -> str:
    """Normalise and check a declared digest and size (caller contract); return the lowercase hex.

    Raises:
        ValueError: ``sha256`` is not 64 hex digits or ``size`` is negative.
    """
    lowered = sha256.lower()
    if len(lowered) != 64 or any(c not in "0123456789abcdef" for c in lowered):
        raise ValueError(f"declared sha256 must be 64 hex digits, found {sha256!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"declared size must be an int >= 0, found {size!r}")
    return lowered


def check_retain_until(retain_until: datetime | None) -> None:
    """Reject a naive datetime (caller contract): retention dates must carry a time zone.

    Raises:
        ValueError: ``retain_until`` has no tzinfo.
    """
    if retain_until is not None and retain_until.utcoffset() is None:
        raise ValueError("retain_until must be timezone-aware (e.g. datetime.now(UTC) + timedelta(...))")


def decide_existing(
    key: str, *, size: int, sha256: str, found_size: int, found_sha256: str | None
) -> PutResult:
    """Decide a put onto a key that is already taken: identical → no-op, anything else → conflict.

    Raises:
        ObjectConflict: the stored object differs in size or SHA-256, or its SHA-256 is unknown.
    """
    if found_size != size:
        raise ObjectConflict(
            f"object {key!r} already exists with different content: expected size {size}, found {found_size}",
            path=key,
        )
    if found_sha256 is None or not digests_equal(sha256, found_sha256):
        raise ObjectConflict(
            f"object {key!r} already exists with different content: expected sha256 {sha256}, "
            f"found {found_sha256 or 'unknown'}",
            path=key,
        )
    return PutResult(key=key, created=False)


class HashingReader:
    """Wraps a binary stream, hashes what is read and fails fast if it is not the declared content.

    The reader never returns more than ``size`` bytes. When the byte that completes ``size`` is read it
    also checks that the source has nothing more and that the SHA-256 matches — *before* returning that
    last chunk, so a backend that sends what it reads never sends the whole of a wrong object. A source
    shorter than ``size`` fails on the read that hits its end.
    """

    def __init__(self, raw: BinaryIO, *, key: str, size: int, sha256: str) -> None:
        self._raw = raw
        self._key = key
        self._size = size
        self._sha256 = sha256
        self._hash = hashlib.sha256()
        self._read = 0
        if size == 0:
            self._finish()

    def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (all remaining if ``n < 0``).

        Raises:
            ChecksumMismatch: the source is shorter or longer than ``size`` or hashes differently.
        """
        remaining = self._size - self._read
        if remaining <= 0:
            return b""
        want = remaining if n is None or n < 0 else min(n, remaining)
        data = self._raw.read(want)
        if not data:
            raise ChecksumMismatch(
                f"object {self._key!r}: expected size {self._size}, found {self._read} (source ended early)",
                path=self._key,
            )
        self._hash.update(data)
        self._read += len(data)
        if self._read == self._size:
            self._finish()
        return data

    def _finish(self) -> None:
        if self._raw.read(1):
            raise ChecksumMismatch(
                f"object {self._key!r}: expected size {self._size}, found more bytes in the source",
                path=self._key,
            )
        found = self._hash.hexdigest()
        if not digests_equal(self._sha256, found):
            raise ChecksumMismatch(
                f"object {self._key!r}: expected sha256 {self._sha256}, found {found}", path=self._key
            )
