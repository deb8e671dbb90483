"""Streaming digests: SHA-256 (content addressing, S3 checksums) and SM3 (GB/T 32905, DA/T 97).

Both go through OpenSSL via :mod:`hashlib` (``hashlib.new('sm3')``); hashlib releases the GIL for
buffers over 2 KiB, so threads hashing different files use both cores. Digests are always stored
with their algorithm name: ``Digests`` maps ``"sha256"``/``"sm3"`` to lowercase hex.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import BinaryIO

SUPPORTED = ("sha256", "sm3")
HEX_LENGTH = {"sha256": 64, "sm3": 64}
CHUNK = 1024 * 1024

Digests = Mapping[str, str]


def new_hash(algorithm: str) -> hashlib._Hash:
    """A fresh hash object for ``algorithm`` (``sha256`` or ``sm3``).

    Raises:
        ValueError: the algorithm is not supported.
    """
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "sm3":
        return hashlib.new("sm3")
    raise ValueError(f"unsupported digest algorithm {algorithm!r}; supported: {', '.join(SUPPORTED)}")


class MultiHasher:
    """Feeds the same bytes to several hash objects in one pass and counts them.

    >>> h = MultiHasher(("sha256", "sm3"))
    >>> h.update(b"abc")
    >>> h.hexdigests()["sm3"]
    '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0'
    >>> h.size
    3
    """

    def __init__(self, algorithms: Iterable[str] = SUPPORTED) -> None:
        self._hashes = {name: new_hash(name) for name in algorithms}
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        for h in self._hashes.values():
            h.update(data)
        self.size += len(data)

    def hexdigests(self) -> dict[str, str]:
        return {name: h.hexdigest() for name, h in self._hashes.items()}


def digest_bytes(data: bytes, algorithms: Iterable[str] = SUPPORTED) -> dict[str, str]:
    """Hex digests of ``data`` for each algorithm."""
    h = MultiHasher(algorithms)
    h.update(data)
    return h.hexdigests()


def digest_stream(
    stream: BinaryIO, algorithms: Iterable[str] = SUPPORTED, chunk: int = CHUNK
) -> tuple[dict[str, str], int]:
    """Hex digests and byte count of everything left in ``stream`` (read in ``chunk``-sized pieces)."""
    h = MultiHasher(algorithms)
    buf = bytearray(chunk)
    view = memoryview(buf)
    readinto = getattr(stream, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(buf)
            if not n:
                break
            h.update(view[:n])
        else:
            data = stream.read(chunk)
            if not data:
                break
            h.update(data)
    return h.hexdigests(), h.size


def digests_equal(expected: str, found: str) -> bool:
    """Constant-time comparison of two hex digests (case-insensitive)."""
    return hmac.compare_digest(
        expected.lower().encode("ascii", "replace"), found.lower().encode("ascii", "replace")
    )
