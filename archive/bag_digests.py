"""The I/O side of BagIt validation: digests of staged files for any manifest algorithm.

:func:`digest_reader` returns the ``digest(path, algorithm)`` callable that
:func:`standards.bagit.validate_bag` calls. SHA-256 and SM3 were computed while staging (intake
hashes every file), so they are answered from :class:`standards.package.StagedFile` without reading
the file again; md5, sha1 and sha512 (and sha256/sm3 if staging skipped them) are streamed from the
staged copy. Every answer is cached, so a file listed in several places is read once per algorithm.
Deciding whether a digest matches is left to :mod:`standards.bagit`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from integrity.hashing import CHUNK
from standards.errors import StorageError
from standards.package import StagedPackage

#: Algorithms a bag manifest may use that we can compute (RFC 8493 §2.4 names; SM3 per GB/T 32905).
ALGORITHMS = ("md5", "sha1", "sha256", "sha512", "sm3")


class StagedFileUnreadable(StorageError):
    """A staged copy could not be read back while computing a digest (a local disk problem)."""

    code = "staged_file_unreadable"


def _new(algorithm: str) -> hashlib._Hash:
    if algorithm in ("md5", "sha1"):
        # Weak algorithms are only used to check what the submitter declared, never to protect data.
        return hashlib.new(algorithm, usedforsecurity=False)
    return hashlib.new(algorithm)


def stream_digest(path: Path, algorithm: str, chunk: int = CHUNK) -> str:
    """Lowercase hex digest of the file at ``path``, read in ``chunk``-sized pieces.

    Raises:
        ValueError: ``algorithm`` is not one of :data:`ALGORITHMS`.
        StagedFileUnreadable: the file cannot be opened or read.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm: expected one of {ALGORITHMS}, found {algorithm!r}")
    h = _new(algorithm)
    buf = bytearray(chunk)
    view = memoryview(buf)
    try:
        with open(path, "rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                h.update(view[:n])
    except OSError as exc:
        raise StagedFileUnreadable(
            f"staged file {path.name!r}: cannot read for {algorithm}: {exc.strerror}", path=str(path)
        ) from None
    return h.hexdigest()


def digest_reader(package: StagedPackage, *, chunk: int = CHUNK) -> Callable[[str, str], str]:
    """A cached ``digest(path, algorithm) -> lowercase hex`` over the staged files of ``package``.

    The returned callable raises:
        KeyError: ``path`` is not a file of the package.
        ValueError: ``algorithm`` is not one of :data:`ALGORITHMS`.
        StagedFileUnreadable: the staged copy cannot be read.
    """
    cache: dict[tuple[str, str], str] = {}

    def digest(path: str, algorithm: str) -> str:
        key = (path, algorithm)
        hit = cache.get(key)
        if hit is not None:
            return hit
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm: expected one of {ALGORITHMS}, found {algorithm!r}")
        staged = package.get(path)
        if staged is None:
            raise KeyError(path)
        value = staged.digests.get(algorithm)
        if value is None:
            value = stream_digest(package.local_path(path), algorithm, chunk)
        cache[key] = value.lower()
        return cache[key]

    return digest
