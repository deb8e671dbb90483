"""A naive RFC 9162 §2.1.1 Merkle Tree Hash, written straight from the definition, for tests only."""

from __future__ import annotations

from collections.abc import Sequence

from integrity.merkle.hashes import SHA256, Hasher


def largest_power_of_two_below(n: int) -> int:
    """The largest k = 2**i with k < n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes], hasher: Hasher = SHA256) -> bytes:
    """MTH(D[n]) of the raw leaf data ``leaves``, by recursion on the RFC's split point."""
    n = len(leaves)
    if n == 0:
        return hasher.digest(b"")
    if n == 1:
        return hasher.digest(b"\x00" + leaves[0])
    k = largest_power_of_two_below(n)
    return hasher.digest(b"\x01" + mth(leaves[:k], hasher) + mth(leaves[k:], hasher))
