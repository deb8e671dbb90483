"""RFC 9162 §2.1.3 inclusion and §2.1.4 consistency proofs: node selection, generation, verification.

Three small pieces over plain bytes and ints, after transparency-dev/merkle ``proof``:

* **Node selection** (:func:`inclusion_nodes`, :func:`consistency_nodes`) is index arithmetic. It
  returns the ``(level, index)`` coordinates of the *complete* perfect subtrees a proof needs (the
  addressing of :mod:`integrity.merkle.compact`) and, when the tree is not perfect, which run of them
  must be folded into the one "ephemeral" right-border node of the RFC's proof. A store fetches those
  O(log n) nodes; no leaf is read.
* **Generation** (:func:`inclusion_proof`, :func:`consistency_proof`) asks a node lookup for the
  hashes of those coordinates and folds the ephemeral run (:meth:`ProofNodes.rehash`).
* **Verification** (:func:`root_from_inclusion`, :func:`verify_inclusion`, :func:`verify_consistency`)
  is the RFC 9162 §2.1.3.2 / §2.1.4.2 algorithm, preceded by precondition checks: index < size,
  size1 <= size2, every hash ``digest_size`` bytes long, and the exact proof length the sizes imply.
  :func:`check_inclusion` / :func:`check_consistency` give the same verdict as a value for reports.

Error classes: every verification failure is a :class:`ProofError` (a ``VerificationFailed``), one
subclass per failure. A wrong hash *length* is also a ``ProofError`` (:class:`HashLengthMismatch`),
because a proof of truncated hashes is a proof that does not verify; a CLI that wants to call it
malformed input catches that class first. Negative indices and sizes are out of range
(:class:`IndexOutOfRange` / :class:`SizeOrder`), never a ``ValueError``, so data parsed from a bundle
cannot escape the family. Generation, which only our own store calls, raises ``ValueError`` on
impossible coordinates (a caller bug).

Two deliberate choices: a consistency proof from size 0 must be empty and ``root1`` must be the
empty-tree hash ``HASH()`` (transparency-dev accepts any ``root1`` there; we know what it must be);
and an inclusion proof alone does not authenticate the tree size (RFC 9162 §2.1.3.2 binds the size
only through the root — e.g. the proof of leaf 0 in a 3-leaf tree also verifies as ``size=4``
against the same root). Sign the size with the root (a checkpoint) before relying on it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from integrity.merkle.hashes import SHA256, Hasher
from standards.errors import VerificationFailed

Coord = tuple[int, int]
"""A node ``(level, index)``: the perfect subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``."""

NodeLookup = Callable[[Sequence[Coord]], Sequence[bytes]]
"""Returns the stored hashes of the given complete nodes, in the order asked."""


# ---------------------------------------------------------------- errors
class ProofError(VerificationFailed):
    """An inclusion or consistency proof did not verify (root of the proof failures)."""

    code = "merkle_proof_invalid"


class IndexOutOfRange(ProofError):
    """The leaf index is not in ``[0, size)`` (RFC 9162 §2.1.3.2 step 1)."""

    code = "merkle_index_out_of_range"


class SizeOrder(ProofError):
    """The first tree is larger than the second, or a size is negative (RFC 9162 §2.1.4.2)."""

    code = "merkle_size_order"


class ProofLengthMismatch(ProofError):
    """The proof does not have the number of hashes the index and sizes imply."""

    code = "merkle_proof_length"


class HashLengthMismatch(ProofError):
    """A leaf hash, root or proof element is not ``digest_size`` bytes long."""

    code = "merkle_hash_length"


class RootMismatch(ProofError):
    """The root computed from the proof is not the root claimed."""

    code = "merkle_root_mismatch"


# ---------------------------------------------------------------- index arithmetic
def _decomp_inclusion(index: int, size: int) -> tuple[int, int]:
    """(inner, border): proof hashes below and on the right border of the tree (0 <= index < size).

    ``inner`` counts the levels where the paths to ``index`` and to ``size - 1`` differ; the
    ``border`` hashes are the left siblings above them (one per set bit of ``index >> inner``).
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner, bin(index >> inner).count("1")


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def inclusion_proof_length(index: int, size: int) -> int:
    """The number of hashes in the inclusion proof of ``index`` in a tree of ``size``.

    >>> inclusion_proof_length(2, 5)
    3

    Raises:
        ValueError: ``index`` is not in ``[0, size)``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index: expected 0..{size - 1}, found {index}")
    inner, border = _decomp_inclusion(index, size)
    return inner + border


def consistency_proof_length(size1: int, size2: int) -> int:
    """The number of hashes in the consistency proof from ``size1`` to ``size2``.

    >>> consistency_proof_length(6, 8)
    3

    Raises:
        ValueError: not ``0 <= size1 <= size2``.
    """
    if not 0 <= size1 <= size2:
        raise ValueError(f"tree sizes: expected 0 <= size1 <= size2, found {size1} and {size2}")
    if size1 in (0, size2):
        return 0
    inner, border = _decomp_inclusion(size1 - 1, size2)
    shift = _trailing_zeros(size1)
    start = 0 if size1 == 1 << shift else 1  # size1 a power of two: the verifier knows that node
    return start + inner - shift + border


def range_nodes(begin: int, end: int) -> list[Coord]:
    """The perfect subtrees that exactly cover leaves ``[begin, end)``, left to right.

    >>> range_nodes(3, 8)
    [(0, 3), (2, 1)]

    Raises:
        ValueError: not ``0 <= begin <= end``.
    """
    if not 0 <= begin <= end:
        raise ValueError(f"leaf range: expected 0 <= begin <= end, found [{begin}, {end})")
    out: list[Coord] = []
    while begin < end:
        level = _trailing_zeros(begin) if begin else (end - begin).bit_length() - 1
        while begin + (1 << level) > end:
            level -= 1
        out.append((level, begin >> level))
        begin += 1 << level
    return out


@dataclass(frozen=True)
class ProofNodes:
    """Which complete nodes build a proof, and which run of them forms the ephemeral node.

    ``coords[begin:end]`` (lowest level first) are folded, right to left, into the single hash of
    the incomplete right-border subtree the RFC's proof contains; every other coordinate is one
    proof hash as is. ``begin == end`` means no folding is needed.
    """

    coords: tuple[Coord, ...]
    begin: int = 0
    end: int = 0

    def rehash(self, hashes: Sequence[bytes], hasher: Hasher = SHA256) -> list[bytes]:
        """The proof, from the hashes of :attr:`coords` (in that order).

        Raises:
            ValueError: the number of hashes differs from the number of coordinates, or a hash has
                the wrong length.
        """
        if len(hashes) != len(self.coords):
            raise ValueError(f"proof nodes: expected {len(self.coords)} hashes, found {len(hashes)}")
        out: list[bytes] = []
        i = 0
        while i < len(hashes):
            h = bytes(hashes[i])
            if self.begin <= i < self.end:
                for j in range(i + 1, self.end):
                    h = hasher.node_hash(bytes(hashes[j]), h)  # higher (left) node || folded right part
                i = self.end
            else:
                i += 1
            out.append(h)
        return out

    def _skip_first(self) -> ProofNodes:
        if self.begin < self.end:
            return ProofNodes(self.coords[1:], self.begin - 1, self.end - 1)
        return ProofNodes(self.coords[1:])


def _nodes(index: int, level: int, size: int) -> ProofNodes:
    """The node ``(level, index)`` followed by the nodes proving it into the tree of ``size``.

    Walks up to the ``fork`` where the path to the node leaves the path to leaf ``size``: below it
    the siblings are complete; the fork's right sibling is ephemeral (covered by
    ``range_nodes(end, size)``); the left siblings above it cover ``[0, begin)``.
    """
    inner = (index ^ (size >> level)).bit_length() - 1
    fork_level, fork_index = level + inner, index >> inner
    begin, end = fork_index << fork_level, (fork_index + 1) << fork_level
    coords: list[Coord] = [(level, index)]
    lv, ix = level, index
    while lv < fork_level:
        coords.append((lv, ix ^ 1))
        lv, ix = lv + 1, ix >> 1
    first = len(coords)
    coords.extend(reversed(range_nodes(end, size)))
    last = len(coords)
    coords.extend(reversed(range_nodes(0, begin)))
    if last - first < 2:  # zero or one node: nothing to fold
        first = last = 0
    return ProofNodes(tuple(coords), first, last)


def inclusion_nodes(index: int, size: int) -> ProofNodes:
    """RFC 9162 §2.1.3.1 ``PATH(m, D[n])`` as node coordinates, bottom up.

    >>> inclusion_nodes(2, 5)
    ProofNodes(coords=((0, 3), (1, 0), (0, 4)), begin=0, end=0)

    Raises:
        ValueError: ``index`` is not in ``[0, size)``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index: expected 0..{size - 1}, found {index}")
    return _nodes(index, 0, size)._skip_first()


def consistency_nodes(size1: int, size2: int) -> ProofNodes:
    """RFC 9162 §2.1.4.1 ``PROOF(m, D[n])`` as node coordinates.

    The proof is the root of the largest perfect subtree ending at ``size1`` (omitted when ``size1``
    is a power of two: the verifier holds it as ``root1``) and its inclusion path into ``size2``.

    >>> consistency_nodes(6, 8).coords
    ((1, 2), (1, 3), (2, 0))

    Raises:
        ValueError: not ``0 <= size1 <= size2``.
    """
    if not 0 <= size1 <= size2:
        raise ValueError(f"tree sizes: expected 0 <= size1 <= size2, found {size1} and {size2}")
    if size1 in (0, size2):
        return ProofNodes(())
    level = _trailing_zeros(size1)
    index = (size1 - 1) >> level
    nodes = _nodes(index, level, size2)
    return nodes._skip_first() if index == 0 else nodes


# ---------------------------------------------------------------- generation
def inclusion_proof(index: int, size: int, lookup: NodeLookup, hasher: Hasher = SHA256) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``size``, from O(log n) stored nodes.

    Raises:
        ValueError: ``index`` is not in ``[0, size)``, or ``lookup`` returned a wrong count or length.
        Whatever ``lookup`` raises (e.g. a store's missing-node or storage errors).
    """
    nodes = inclusion_nodes(index, size)
    return nodes.rehash(lookup(nodes.coords), hasher)


def consistency_proof(size1: int, size2: int, lookup: NodeLookup, hasher: Hasher = SHA256) -> list[bytes]:
    """The consistency proof between the trees of ``size1`` and ``size2``, from O(log n) stored nodes.

    Raises:
        ValueError: not ``0 <= size1 <= size2``, or ``lookup`` returned a wrong count or length.
        Whatever ``lookup`` raises (e.g. a store's missing-node or storage errors).
    """
    nodes = consistency_nodes(size1, size2)
    return nodes.rehash(lookup(nodes.coords), hasher) if nodes.coords else []


# ---------------------------------------------------------------- verification
def _check_hash(value: bytes, what: str, hasher: Hasher) -> None:
    if len(value) != hasher.digest_size:
        raise HashLengthMismatch(
            f"{what}: expected {hasher.digest_size} bytes ({hasher.name}), found {len(value)}"
        )


def _check_proof_hashes(proof: Sequence[bytes], hasher: Hasher) -> None:
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]", hasher)


def _match(found: bytes, expected: bytes, what: str) -> None:
    if not hmac.compare_digest(found, expected):
        raise RootMismatch(f"{what}: expected {expected.hex()}, computed {found.hex()}")


def root_from_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], hasher: Hasher = SHA256
) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1–5, without the comparison).

    Raises:
        IndexOutOfRange: ``index`` is not in ``[0, size)``.
        HashLengthMismatch: the leaf hash or a proof element has the wrong length.
        ProofLengthMismatch: the proof is not as long as ``index`` and ``size`` imply.
    """
    if not 0 <= index < size:
        raise IndexOutOfRange(
            f"leaf index: expected 0..{max(size - 1, 0)} for tree size {size}, found {index}"
        )
    _check_hash(leaf_hash, "leaf hash", hasher)
    _check_proof_hashes(proof, hasher)
    expected = inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise ProofLengthMismatch(
            f"inclusion proof of {index} in {size}: expected {expected} hashes, found {len(proof)}"
        )
    fn, sn, r = index, size - 1, bytes(leaf_hash)  # step 2, 3
    for p in proof:  # step 4
        if sn == 0:  # 4a (unreachable after the length check; kept as the RFC states it)
            raise ProofLengthMismatch(f"inclusion proof of {index} in {size}: too long")
        if fn & 1 or fn == sn:  # 4b
            r = hasher.node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = hasher.node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1  # 4c
    if sn != 0:  # step 5 (unreachable after the length check)
        raise ProofLengthMismatch(f"inclusion proof of {index} in {size}: too short")
    return r


def verify_inclusion(
    index: int,
    size: int,
    leaf_hash: bytes,
    proof: Sequence[bytes],
    root: bytes,
    hasher: Hasher = SHA256,
) -> None:
    """RFC 9162 §2.1.3.2: check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Raises:
        IndexOutOfRange: ``index`` is not in ``[0, size)``.
        HashLengthMismatch: the leaf hash, the root or a proof element has the wrong length.
        ProofLengthMismatch: the proof is not as long as ``index`` and ``size`` imply.
        RootMismatch: the proof leads to another root.
    """
    if 0 <= index < size:
        _check_hash(root, "root", hasher)
    computed = root_from_inclusion(index, size, leaf_hash, proof, hasher)
    _match(computed, bytes(root), f"root of tree size {size}")


def verify_consistency(
    size1: int,
    size2: int,
    root1: bytes,
    root2: bytes,
    proof: Sequence[bytes],
    hasher: Hasher = SHA256,
) -> None:
    """RFC 9162 §2.1.4.2: check that the tree of ``size1`` and ``root1`` is a prefix of ``size2``/``root2``.

    Equal sizes need an empty proof and equal roots; from size 0 the proof is empty and ``root1``
    must be the empty-tree hash.

    Raises:
        SizeOrder: ``size1 > size2`` or ``size1 < 0``.
        HashLengthMismatch: a root or a proof element has the wrong length.
        ProofLengthMismatch: the proof is not as long as the sizes imply (including a non-empty
            proof for equal sizes or size 0, and an empty one otherwise).
        RootMismatch: the proof does not lead to ``root1`` or to ``root2``.
    """
    if not 0 <= size1 <= size2:
        raise SizeOrder(f"tree sizes: expected 0 <= size1 <= size2, found size1={size1}, size2={size2}")
    _check_hash(root1, "root1", hasher)
    _check_hash(root2, "root2", hasher)
    _check_proof_hashes(proof, hasher)
    expected = consistency_proof_length(size1, size2)
    if len(proof) != expected:
        raise ProofLengthMismatch(
            f"consistency proof {size1} -> {size2}: expected {expected} hashes, found {len(proof)}"
        )
    if size1 == size2:
        _match(bytes(root2), bytes(root1), f"root2 of equal tree size {size2}")
        return
    if size1 == 0:
        _match(bytes(root1), hasher.empty_root(), "root1 of the empty tree")
        return
    path = [bytes(p) for p in proof]
    if size1 == 1 << _trailing_zeros(size1):  # step 2: size1 a power of two
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a (unreachable after the length check)
            raise ProofLengthMismatch(f"consistency proof {size1} -> {size2}: too long")
        if fn & 1 or fn == sn:  # 6b
            fr = hasher.node_hash(c, fr)
            sr = hasher.node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = hasher.node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1  # 6c
    if sn != 0:  # step 7 (unreachable after the length check)
        raise ProofLengthMismatch(f"consistency proof {size1} -> {size2}: too short")
    _match(fr, bytes(root1), f"root1 of tree size {size1}")
    _match(sr, bytes(root2), f"root2 of tree size {size2}")


# ---------------------------------------------------------------- result form
@dataclass(frozen=True)
class ProofCheck:
    """The verdict of a proof check: ``ok``, or the failure's class name, ``code`` and message."""

    ok: bool
    error: str | None = None
    code: str | None = None
    message: str | None = None

    @classmethod
    def failed(cls, error: ProofError) -> ProofCheck:
        return cls(False, type(error).__name__, error.code, error.message)


def check_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes, hasher: Hasher = SHA256
) -> ProofCheck:
    """:func:`verify_inclusion` as a value, for reports (never raises a :class:`ProofError`)."""
    try:
        verify_inclusion(index, size, leaf_hash, proof, root, hasher)
    except ProofError as error:
        return ProofCheck.failed(error)
    return ProofCheck(True)


def check_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes], hasher: Hasher = SHA256
) -> ProofCheck:
    """:func:`verify_consistency` as a value, for reports (never raises a :class:`ProofError`)."""
    try:
        verify_consistency(size1, size2, root1, root2, proof, hasher)
    except ProofError as error:
        return ProofCheck.failed(error)
    return ProofCheck(True)
