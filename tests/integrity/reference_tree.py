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


def path(m: int, leaves: Sequence[bytes], hasher: Hasher = SHA256) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]), by recursion on the RFC's split point (0 <= m < n)."""
    n = len(leaves)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return [*path(m, leaves[:k], hasher), mth(leaves[k:], hasher)]
    return [*path(m - k, leaves[k:], hasher), mth(leaves[:k], hasher)]


def proof(m: int, leaves: Sequence[bytes], hasher: Hasher = SHA256) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (0 < m < n; empty if m == n)."""
    return _subproof(m, leaves, True, hasher)


def _subproof(m: int, leaves: Sequence[bytes], b: bool, hasher: Hasher) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves, hasher)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], b, hasher), mth(leaves[k:], hasher)]
    return [*_subproof(m - k, leaves[k:], False, hasher), mth(leaves[:k], hasher)]
