"""Filesystem object store (``name = "fs"``): one file per object under a root folder.

Writes go to a temporary file in ``<root>/.tmp/`` (same filesystem), hashed while written, flushed and
``fsync``-ed, made read-only (0o444) and then published with ``os.link(tmp, final)``, which never
overwrites: if another writer won the race, the link fails and the existing object is compared
(identical → no-op, different → :class:`ObjectConflict`). The parent folder is ``fsync``-ed after
publishing. ``put_file`` always *copies* the source: hard-linking an arbitrary file would let a later
write to it change the stored object. ``adopt_file`` is the exception, for staging files the caller
wrote, hashed and will unlink (ingest): it fsyncs the file, makes it read-only and hard-links it into
place, checking the size; its SHA-256 is the one computed while the file was written (fixity audits
re-hash stored objects). Across filesystems it falls back to the copy.

Retention: the fs backend has no retention mechanism; ``retain_until`` is accepted and ignored (stat
reports ``None``); read-only files and the service never deleting are the protection, and retention
is enforced by the catalog. ``stat`` does not hash the file, so ``ObjectInfo.sha256`` is ``None``.

OS errors: ENOSPC, EDQUOT, EROFS, EACCES, EPERM, EIO, ENOENT of the root and ENOTCONN/ESTALE (a lost
network mount) are reported as :class:`StoreUnavailable` (the store cannot do this now, retrying later
may work); any other ``OSError`` becomes :class:`FsStoreError`.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat as stat_mod
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, NoReturn, cast

from archive.stores.base import (
    DEFAULT_CONTENT_TYPE,
    HashingReader,
    ObjectInfo,
    PutResult,
    check_declared,
    check_retain_until,
    decide_existing,
)
from archive.stores.errors import ChecksumMismatch, FsStoreError, ObjectNotFound, StoreUnavailable
from archive.stores.keys import validate_key
from integrity.hashing import CHUNK, digest_stream

TMP_DIR = ".tmp"
READ_ONLY = 0o444
_UNAVAILABLE = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EIO,
    errno.ENOTCONN,
    errno.ESTALE,
}


def _translate(exc: OSError, action: str, key: str | None = None) -> NoReturn:
    where = f" {key!r}" if key else ""
    name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    message = f"fs store could not {action}{where}: [{name}] {exc.strerror}"
    if exc.errno in _UNAVAILABLE:
        raise StoreUnavailable(message, path=key) from None
    raise FsStoreError(message, path=key) from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FsStore:
    """A folder-backed :class:`~archive.stores.base.ObjectStore`."""

    name = "fs"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._root_text = str(self.root)
        self._tmp = self.root / TMP_DIR

    def ensure_root(self) -> None:
        """Create the root and its ``.tmp/`` folder if missing.

        Raises:
            StoreUnavailable, FsStoreError: the folders cannot be created.
        """
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _translate(exc, "create its root folder")

    def _path(self, key: str) -> Path:
        return Path(self._file(key))

    def _file(self, key: str) -> str:
        """The object's file path as a string (no ``Path`` objects on the per-object read path)."""
        return os.path.join(self._root_text, *validate_key(key).split("/"))

    # ------------------------------------------------------------------ writes
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
        """Copy the file at ``path`` in (see the module docstring); ``retain_until`` is ignored.

        Raises:
            InvalidKey, ChecksumMismatch, ObjectConflict, StoreUnavailable: see
                :class:`~archive.stores.base.ObjectStore`.
            FsStoreError: another OS error, including an unreadable source file.
        """
        final = self._path(key)
        sha256 = check_declared(sha256, size)
        check_retain_until(retain_until)
        if final.exists():
            return self._decide(key, final, size=size, sha256=sha256)
        try:
            with path.open("rb") as src:
                reader = HashingReader(src, key=key, size=size, sha256=sha256)
                return self._write(key, final, reader, size, sha256)
        except OSError as exc:
            _translate(exc, "store", key)

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
        """Take over a staging file without copying it (see the module docstring).

        Raises:
            ChecksumMismatch: the file is not a regular file of the declared size; nothing is stored.
            InvalidKey, ObjectConflict, StoreUnavailable, FsStoreError: as for :meth:`put_file`.
        """
        final = self._path(key)
        sha256 = check_declared(sha256, size)
        check_retain_until(retain_until)
        if final.exists():
            return self._decide(key, final, size=size, sha256=sha256)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                info = os.fstat(fd)
                if not stat_mod.S_ISREG(info.st_mode) or info.st_size != size:
                    raise ChecksumMismatch(
                        f"staging file for {key!r}: expected a regular file of {size} bytes, "
                        f"found {info.st_size} bytes (mode {stat_mod.filemode(info.st_mode)})",
                        path=key,
                    )
                os.fsync(fd)
                os.fchmod(fd, READ_ONLY)
            finally:
                os.close(fd)
            self._make_parents(final.parent)
            try:
                os.link(path, final)  # never overwrites
            except FileExistsError:
                return self._decide(key, final, size=size, sha256=sha256)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                return self.put_file(key, path, sha256=sha256, size=size, content_type=content_type)
            _fsync_dir(final.parent)
            return PutResult(key=key, created=True)
        except OSError as exc:
            _translate(exc, "adopt a staging file as", key)

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        retain_until: datetime | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> PutResult:
        """Store ``data``; ``retain_until`` is ignored.

        Raises:
            InvalidKey, ObjectConflict, StoreUnavailable, FsStoreError: see :meth:`put_file`.
        """
        final = self._path(key)
        check_retain_until(retain_until)
        sha256 = hashlib.sha256(data).hexdigest()
        if final.exists():
            return self._decide(key, final, size=len(data), sha256=sha256)
        try:
            reader = HashingReader(io.BytesIO(data), key=key, size=len(data), sha256=sha256)
            return self._write(key, final, reader, len(data), sha256)
        except OSError as exc:
            _translate(exc, "store", key)

    def _write(self, key: str, final: Path, reader: HashingReader, size: int, sha256: str) -> PutResult:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := reader.read(CHUNK):  # raises ChecksumMismatch before the last chunk is written
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, READ_ONLY)
            self._make_parents(final.parent)
            try:
                os.link(tmp, final)  # never overwrites: FileExistsError if someone else published first
            except FileExistsError:
                return self._decide(key, final, size=size, sha256=sha256)
            _fsync_dir(final.parent)
            return PutResult(key=key, created=True)
        finally:
            tmp.unlink(missing_ok=True)

    def _make_parents(self, folder: Path) -> None:
        missing: list[Path] = []
        current = folder
        while not current.exists():
            missing.append(current)
            current = current.parent
        for created in reversed(missing):
            try:
                created.mkdir()
            except FileExistsError:
                continue
            _fsync_dir(created.parent)

    def _decide(self, key: str, final: Path, *, size: int, sha256: str) -> PutResult:
        try:
            found_size = final.stat().st_size
            found_sha256: str | None = None
            if found_size == size:
                with final.open("rb") as existing:
                    found_sha256 = digest_stream(existing, ("sha256",))[0]["sha256"]
        except OSError as exc:
            _translate(exc, "read the existing object", key)
        return decide_existing(
            key, size=size, sha256=sha256, found_size=found_size, found_sha256=found_sha256
        )

    # ------------------------------------------------------------------ reads
    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """The object's file opened for reading (streamed from disk).

        Raises:
            InvalidKey, ObjectNotFound, StoreUnavailable, FsStoreError: see
                :class:`~archive.stores.base.ObjectStore`.
        """
        final = self._file(key)
        try:
            return cast(BinaryIO, open(final, "rb"))  # the caller closes it (context manager)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        except OSError as exc:
            _translate(exc, "open", key)

    def stat(self, key: str) -> ObjectInfo:
        """Size of the object (sha256 and retention are ``None`` on fs).

        Raises:
            InvalidKey, ObjectNotFound, StoreUnavailable, FsStoreError: see :meth:`open`.
        """
        final = self._file(key)
        try:
            st = os.stat(final)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        except OSError as exc:
            _translate(exc, "stat", key)
        if not stat_mod.S_ISREG(st.st_mode):
            raise ObjectNotFound(key)
        return ObjectInfo(key=key, size=st.st_size)

    def exists(self, key: str) -> bool:
        """Whether a regular file is stored under ``key``.

        Raises:
            InvalidKey, StoreUnavailable, FsStoreError: see :meth:`open`.
        """
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def iter_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, walking folders in sorted order; skips ``.tmp/``.

        Raises:
            StoreUnavailable, FsStoreError: a folder cannot be listed.
        """
        # Start at the deepest folder the prefix names, so listing one AIP does not walk every blob.
        start_parts = prefix.split("/")[:-1]
        start = os.path.join(self._root_text, *start_parts)
        if not os.path.isdir(start):
            return
        yield from self._walk(start, "/".join(start_parts), prefix)

    def _walk(self, folder: str, rel: str, prefix: str) -> Iterator[ObjectInfo]:
        """Files of ``folder`` (sorted) then its sub-folders (sorted), as os.walk top-down lists them."""
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except FileNotFoundError:
            return
        except OSError as exc:
            _translate(exc, "list", prefix or "/")
        folders = []
        for entry in entries:
            key = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if key != TMP_DIR:
                        folders.append((entry.path, key))
                    continue
                if not key.startswith(prefix):
                    continue
                size = entry.stat().st_size
            except FileNotFoundError:
                continue
            except OSError as exc:
                _translate(exc, "stat", key)
            yield ObjectInfo(key=key, size=size)
        for path, key in folders:
            if key.startswith(prefix) or prefix.startswith(key + "/"):
                yield from self._walk(path, key, prefix)

    def check_ready(self) -> None:
        """The root and ``.tmp/`` exist and are writable.

        Raises:
            StoreUnavailable: the root is missing, not a folder or not writable.
        """
        for folder in (self.root, self._tmp):
            where = str(folder)
            if not folder.is_dir():
                raise StoreUnavailable(
                    f"fs store folder {where!r}: expected a folder, found none", path=where
                )
            if not os.access(folder, os.W_OK | os.X_OK):
                raise StoreUnavailable(f"fs store folder {where!r}: expected writable, found not", path=where)
