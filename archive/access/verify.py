"""Re-verify a stored object while it is streamed to a reader (利用: DA/T 70 authenticity at use).

:func:`verified_chunks` passes the bytes on as they are read but always holds back the most recent
chunk; only when the stream has ended and its SHA-256 and size equal the catalogued ones is that last
chunk released. So a consumer that forwards what it gets (an HTTP response) never forwards the whole of
a wrong object: a flipped last byte, a truncated or an extended object all fail before the end.

Pure apart from reading the given stream; opening the object, logging the access and raising an
incident alert are left to :mod:`archive.access.service`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from archive.access.errors import AccessDigestMismatch
from archive.stores.base import check_declared
from integrity.hashing import CHUNK, digests_equal

DEFAULT_CHUNK = CHUNK  # 1 MiB, the size every store and hasher reads in


def verified_chunks(
    reader: BinaryIO,
    expected_sha256: str,
    expected_size: int,
    chunk_size: int = DEFAULT_CHUNK,
    *,
    key: str | None = None,
) -> Iterator[bytes]:
    """The bytes of ``reader`` in chunks, the last one released only after the whole stream verified.

    Arguments are checked at once (not at the first ``next``); the stream is read lazily. ``key``
    names the object in the error. Reads beyond ``expected_size`` are never yielded: the chunk that
    crosses it fails the stream (the rest is read only to report the size and digest found).

    >>> import io, hashlib
    >>> data = b"abc" * 5
    >>> b"".join(verified_chunks(io.BytesIO(data), hashlib.sha256(data).hexdigest(), 15, 4))
    b'abcabcabcabcabc'

    Raises:
        ValueError: ``expected_sha256`` is not 64 hex digits, ``expected_size`` is negative or
            ``chunk_size`` is not positive (caller bugs; raised by this call itself).
        AccessDigestMismatch: while iterating, before the last chunk: the stream's size or SHA-256
            differs from the expected one.
        Whatever ``reader.read`` raises (e.g. a store's ``StoreUnavailable``), unchanged.
    """
    expected = check_declared(expected_sha256, expected_size)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
        raise ValueError(f"chunk_size must be an int > 0, found {chunk_size!r}")
    return _verified(reader, expected, expected_size, chunk_size, key)


def _verified(
    reader: BinaryIO, expected: str, size: int, chunk_size: int, key: str | None
) -> Iterator[bytes]:
    hasher = hashlib.sha256()
    read = 0
    held: bytes | None = None
    while chunk := reader.read(chunk_size):
        hasher.update(chunk)
        read += len(chunk)
        if read > size:  # longer than catalogued: stop now, never pass on more than `size` bytes
            while rest := reader.read(chunk_size):
                hasher.update(rest)
                read += len(rest)
            raise _mismatch(key, expected, hasher.hexdigest(), size, read)
        if held is not None:
            yield held
        held = chunk
    found = hasher.hexdigest()
    if read != size or not digests_equal(expected, found):
        raise _mismatch(key, expected, found, size, read)
    if held is not None:
        yield held


def _mismatch(key: str | None, expected: str, found: str, size: int, read: int) -> AccessDigestMismatch:
    subject = f"object {key!r}" if key else "stream"
    return AccessDigestMismatch(
        f"{subject}: expected sha256 {expected} and size {size}, found sha256 {found} and size {read};"
        " the stream was stopped before its last chunk",
        expected_sha256=expected,
        found_sha256=found,
        expected_size=size,
        found_size=read,
        path=key,
    )
