"""A compact range over the leaves ``[0, size)`` of an RFC 9162 Merkle tree.

The range is the list of roots of the perfect subtrees that ``[0, size)`` decomposes into, left to
right, largest first — the "right edge" kept by transparency-dev/merkle ``compact.Range`` for ranges
that begin at 0. It holds ``popcount(size)`` hashes, so appending a leaf and computing the root of
the tree are O(log n) without reading earlier leaves.

Node addressing follows the ledger tables: node ``(level, index)`` covers the leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 is a leaf hash. This module is pure: it
neither reads nor writes nodes (the ledger store does), and it builds no proofs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from integrity.merkle.hashes import SHA256, Hasher


@dataclass(frozen=True)
class Node:
    """The root hash of the perfect subtree ``(level, index)``."""

    level: int
    index: int
    hash: bytes


def perfect_subtrees(size: int) -> list[tuple[int, int]]:
    """The ``(level, index)`` of each perfect subtree of ``[0, size)``, left to right.

    These are the nodes a :class:`CompactRange` of ``size`` holds (one per set bit of ``size``).

    >>> perfect_subtrees(13)
    [(3, 0), (2, 2), (0, 12)]

    Raises:
        ValueError: ``size`` is negative.
    """
    if size < 0:
        raise ValueError(f"tree size must be >= 0 (found {size})")
    out: list[tuple[int, int]] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, start >> level))
            start += 1 << level
    return out


class CompactRange:
    """The perfect-subtree hashes covering ``[0, size)``; supports append and root.

    >>> r = CompactRange()
    >>> _ = r.append(SHA256.leaf_hash(b""))
    >>> r.root().hex()
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
    """

    def __init__(self, hasher: Hasher = SHA256) -> None:
        self._hasher = hasher
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_nodes(cls, size: int, hashes: Sequence[bytes], hasher: Hasher = SHA256) -> CompactRange:
        """Rebuild a range from stored node hashes, in the order of :func:`perfect_subtrees` (size).

        Raises:
            ValueError: ``size`` is negative, the number of hashes is not ``popcount(size)``, or a
                hash has the wrong length.
        """
        expected = len(perfect_subtrees(size))
        if len(hashes) != expected:
            raise ValueError(f"a range of size {size} needs {expected} node hashes (found {len(hashes)})")
        for i, h in enumerate(hashes):
            if len(h) != hasher.digest_size:
                raise ValueError(f"node hash {i} must be {hasher.digest_size} bytes (found {len(h)})")
        r = cls(hasher)
        r._size = size
        r._hashes = [bytes(h) for h in hashes]
        return r

    @property
    def size(self) -> int:
        """The number of leaves covered."""
        return self._size

    @property
    def hasher(self) -> Hasher:
        return self._hasher

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The perfect-subtree hashes, left to right (see :func:`perfect_subtrees`)."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Add the leaf hash of leaf ``size`` and return every node completed by it.

        The first returned node is the leaf itself (level 0); each further one is the parent formed
        when the new subtree's index is odd at its level (it is merged with its left sibling).

        Raises:
            ValueError: ``leaf_hash`` has the wrong length.
        """
        if len(leaf_hash) != self._hasher.digest_size:
            raise ValueError(f"leaf hash must be {self._hasher.digest_size} bytes (found {len(leaf_hash)})")
        index = self._size
        level = 0
        current = bytes(leaf_hash)
        completed = [Node(0, index, current)]
        while index & 1:
            left = self._hashes.pop()
            current = self._hasher.node_hash(left, current)
            index >>= 1
            level += 1
            completed.append(Node(level, index, current))
        self._hashes.append(current)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """RFC 9162 §2.1.1 ``MTH(D[0:size])``; the empty-tree hash when ``size`` is 0."""
        if not self._hashes:
            return self._hasher.empty_root()
        # MTH splits at the largest power of two < n, so the root folds the right edge from the right.
        acc = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            acc = self._hasher.node_hash(h, acc)
        return acc

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, hasher={self._hasher.name!r})"
