"""RFC 9162 §2.1.3/§2.1.4 proofs: known answers, named invalid vectors, properties vs the naive tree, pymerkle."""

from __future__ import annotations

import doctest
from collections.abc import Sequence

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree, InvalidProof
from pymerkle.core import _consistency_path_layout, _inclusion_path_layout
from pymerkle.proof import ConsistencyProof, InclusionProof

import integrity.merkle.proofs as proofs_module
from integrity.merkle.hashes import SHA256, SM3, Hasher
from integrity.merkle.proofs import (
    Coord,
    HashLengthMismatch,
    IndexOutOfRange,
    ProofError,
    ProofLengthMismatch,
    RootMismatch,
    SizeOrder,
    check_consistency,
    check_inclusion,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)
from standards.errors import VerificationFailed
from tests.integrity.reference_tree import mth, path, proof
from tests.integrity.vectors import load

KAT = load("proofs_rfc6962_kat.json")
INVALID = load("proofs_invalid.json")
KAT_LEAVES = [bytes.fromhex(h) for h in KAT["leaves_hex"]]
ERRORS: dict[str, type[ProofError]] = {
    cls.__name__: cls
    for cls in (IndexOutOfRange, SizeOrder, ProofLengthMismatch, HashLengthMismatch, RootMismatch)
}


def kat_root(size: int) -> bytes:
    return bytes.fromhex(KAT["roots_hex_by_size"][str(size)])


def hexes(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def lookup_over(leaves: Sequence[bytes], hasher: Hasher = SHA256, seen: list[Coord] | None = None):  # type: ignore[no-untyped-def]
    """A node lookup answering from the naive tree; records what was asked and refuses incomplete nodes."""

    def read(coords: Sequence[Coord]) -> list[bytes]:
        out = []
        for level, index in coords:
            end = (index + 1) << level
            assert end <= len(leaves), f"asked for incomplete node {(level, index)} of {len(leaves)} leaves"
            out.append(mth(leaves[index << level : end], hasher))
        if seen is not None:
            seen.extend(coords)
        return out

    return read


def flip(values: list[bytes], element: int, bit: int) -> list[bytes]:
    out = list(values)
    b = bytearray(out[element])
    b[bit // 8] ^= 1 << (bit % 8)
    out[element] = bytes(b)
    return out


# ---------------------------------------------------------------- known answers
def test_docstring_examples_run():
    assert doctest.testmod(proofs_module).failed == 0


def test_kat_roots_are_the_naive_mth_of_the_test_leaves():
    for size in range(1, 9):
        assert mth(KAT_LEAVES[:size]) == kat_root(size)


@pytest.mark.parametrize("vec", KAT["inclusion"], ids=lambda v: f"{v['index']}-in-{v['size']}")
def test_known_inclusion_proof_verifies_and_is_what_we_generate(vec):
    index, size, expected = vec["index"], vec["size"], hexes(vec["proof_hex"])
    leaf = SHA256.leaf_hash(KAT_LEAVES[index])
    verify_inclusion(index, size, leaf, expected, kat_root(size))
    assert root_from_inclusion(index, size, leaf, expected) == kat_root(size)
    assert inclusion_proof(index, size, lookup_over(KAT_LEAVES[:size])) == expected


@pytest.mark.parametrize("vec", KAT["consistency"], ids=lambda v: f"{v['size1']}-to-{v['size2']}")
def test_known_consistency_proof_verifies_and_is_what_we_generate(vec):
    size1, size2, expected = vec["size1"], vec["size2"], hexes(vec["proof_hex"])
    verify_consistency(size1, size2, kat_root(size1), kat_root(size2), expected)
    assert consistency_proof(size1, size2, lookup_over(KAT_LEAVES[:size2])) == expected


@pytest.mark.parametrize("vec", INVALID["inclusion"], ids=lambda v: f"{v['from']}:{v['mutation']}")
def test_invalid_inclusion_vector_raises_its_error_class(vec):
    with pytest.raises(ERRORS[vec["expected_error"]]) as caught:
        verify_inclusion(
            vec["index"],
            vec["size"],
            bytes.fromhex(vec["leaf_hash_hex"]),
            hexes(vec["proof_hex"]),
            bytes.fromhex(vec["root_hex"]),
        )
    assert type(caught.value) is ERRORS[vec["expected_error"]]


@pytest.mark.parametrize("vec", INVALID["consistency"], ids=lambda v: f"{v['from']}:{v['mutation']}")
def test_invalid_consistency_vector_raises_its_error_class(vec):
    with pytest.raises(ERRORS[vec["expected_error"]]) as caught:
        verify_consistency(
            vec["size1"],
            vec["size2"],
            bytes.fromhex(vec["root1_hex"]),
            bytes.fromhex(vec["root2_hex"]),
            hexes(vec["proof_hex"]),
        )
    assert type(caught.value) is ERRORS[vec["expected_error"]]


def test_every_proof_error_is_a_verification_failure_with_its_own_code():
    codes = {cls.code for cls in ERRORS.values()} | {ProofError.code}
    assert len(codes) == len(ERRORS) + 1
    assert all(issubclass(cls, ProofError) and issubclass(cls, VerificationFailed) for cls in ERRORS.values())


def test_check_inclusion_reports_the_failure_instead_of_raising():
    leaf = SHA256.leaf_hash(KAT_LEAVES[0])
    good = check_inclusion(0, 1, leaf, [], kat_root(1))
    bad = check_inclusion(0, 1, leaf, [], kat_root(2))
    assert good.ok and good.error is None
    assert (bad.ok, bad.error, bad.code) == (False, "RootMismatch", "merkle_root_mismatch")
    assert kat_root(2).hex() in (bad.message or "")


def test_check_consistency_reports_the_failure_instead_of_raising():
    assert check_consistency(0, 5, SHA256.empty_root(), kat_root(5), []).ok
    bad = check_consistency(3, 2, kat_root(3), kat_root(2), [])
    assert (bad.ok, bad.error) == (False, "SizeOrder")


def test_verify_inclusion_rejects_truncated_root():
    with pytest.raises(HashLengthMismatch, match="root: expected 32 bytes"):
        verify_inclusion(0, 1, SHA256.leaf_hash(b""), [], kat_root(1)[:31])


def test_inclusion_proof_does_not_bind_tree_size_only_the_root_does():
    # RFC 9162 §2.1.3.2 property (documented in the module): PATH(0, D[3]) chains to MTH(D[3]) also
    # when read as a proof in a tree of size 4, so the size must be signed with the root.
    p = path(0, KAT_LEAVES[:3])
    verify_inclusion(0, 4, SHA256.leaf_hash(KAT_LEAVES[0]), p, kat_root(3))
    with pytest.raises(RootMismatch):
        verify_inclusion(0, 4, SHA256.leaf_hash(KAT_LEAVES[0]), p, kat_root(4))


def test_consistency_from_empty_tree_requires_the_empty_tree_hash():
    verify_consistency(0, 3, SHA256.empty_root(), kat_root(3), [])
    with pytest.raises(RootMismatch, match="root1 of the empty tree"):
        verify_consistency(0, 3, kat_root(1), kat_root(3), [])


def test_sm3_proofs_verify_with_the_sm3_hasher_only():
    leaves = [b"a", b"b", b"c", b"d", b"e"]
    p = inclusion_proof(3, 5, lookup_over(leaves, SM3), SM3)
    assert p == path(3, leaves, SM3)
    verify_inclusion(3, 5, SM3.leaf_hash(b"d"), p, mth(leaves, SM3), SM3)
    with pytest.raises(RootMismatch):
        verify_inclusion(3, 5, SHA256.leaf_hash(b"d"), path(3, leaves), mth(leaves, SM3), SHA256)


def test_node_selection_names_complete_nodes_and_the_ephemeral_run():
    nodes = inclusion_nodes(0, 7)
    # leaf 1, node [2,4), then [4,7) folded from its perfect subtrees [6,7) and [4,6) (lowest first)
    assert nodes.coords == ((0, 1), (1, 1), (0, 6), (1, 2))
    assert (nodes.begin, nodes.end) == (2, 4)
    assert consistency_nodes(0, 7).coords == () and consistency_nodes(7, 7).coords == ()
    with pytest.raises(ValueError, match="leaf index"):
        inclusion_nodes(7, 7)
    with pytest.raises(ValueError, match="tree sizes"):
        consistency_nodes(8, 7)


# ---------------------------------------------------------------- properties vs the naive tree
distinct_leaves = st.lists(st.binary(max_size=12), min_size=1, max_size=70, unique=True)


@settings(max_examples=120, deadline=None)
@given(distinct_leaves, st.data())
def test_generated_inclusion_proof_is_rfc_path_and_reads_log_n_complete_nodes(leaves, data):
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    seen: list[Coord] = []
    p = inclusion_proof(index, size, lookup_over(leaves, seen=seen))
    assert p == path(index, leaves)
    assert len(seen) <= 2 * size.bit_length()
    verify_inclusion(index, size, SHA256.leaf_hash(leaves[index]), p, mth(leaves))


@settings(max_examples=120, deadline=None)
@given(distinct_leaves, st.data())
def test_generated_consistency_proof_is_rfc_proof_and_reads_log_n_complete_nodes(leaves, data):
    size2 = len(leaves)
    size1 = data.draw(st.integers(0, size2))
    seen: list[Coord] = []
    p = consistency_proof(size1, size2, lookup_over(leaves, seen=seen))
    assert p == (proof(size1, leaves) if 0 < size1 < size2 else [])
    assert len(seen) <= 2 * size2.bit_length() + 1
    verify_consistency(size1, size2, mth(leaves[:size1]), mth(leaves), p)


@settings(max_examples=150, deadline=None)
@given(distinct_leaves, st.data())
def test_any_changed_inclusion_proof_fails(leaves, data):
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    leaf, root = SHA256.leaf_hash(leaves[index]), mth(leaves)
    p = path(index, leaves)
    mutation = data.draw(st.sampled_from(["flip", "drop", "add", "reorder", "index", "size"]))
    if mutation == "flip":
        assume(p)
        bad = flip(p, data.draw(st.integers(0, len(p) - 1)), data.draw(st.integers(0, 255)))
        with pytest.raises(RootMismatch):
            verify_inclusion(index, size, leaf, bad, root)
    elif mutation == "drop":
        assume(p)
        i = data.draw(st.integers(0, len(p) - 1))
        with pytest.raises(ProofLengthMismatch):
            verify_inclusion(index, size, leaf, p[:i] + p[i + 1 :], root)
    elif mutation == "add":
        i = data.draw(st.integers(0, len(p)))
        extra = data.draw(st.binary(min_size=32, max_size=32))
        with pytest.raises(ProofLengthMismatch):
            verify_inclusion(index, size, leaf, [*p[:i], extra, *p[i:]], root)
    elif mutation == "reorder":
        assume(len(p) >= 2)
        i, j = sorted(data.draw(st.lists(st.integers(0, len(p) - 1), min_size=2, max_size=2, unique=True)))
        bad = list(p)
        bad[i], bad[j] = bad[j], bad[i]
        with pytest.raises(RootMismatch):
            verify_inclusion(index, size, leaf, bad, root)
    elif mutation == "index":
        other = data.draw(st.integers(-2, size + 2).filter(lambda k: k != index))
        with pytest.raises(ProofError):
            verify_inclusion(other, size, leaf, p, root)
    else:  # a wrong size, checked against that size's real root
        other = data.draw(st.integers(index + 1, 80).filter(lambda k: k != size))
        bigger = [*leaves, *(b"\xff" + bytes([k]) * 13 for k in range(80))]
        with pytest.raises(ProofError):
            verify_inclusion(index, other, leaf, p, mth(bigger[:other]))


@settings(max_examples=150, deadline=None)
@given(distinct_leaves.filter(lambda xs: len(xs) >= 2), st.data())
def test_any_changed_consistency_proof_fails(leaves, data):
    size2 = len(leaves)
    size1 = data.draw(st.integers(1, size2 - 1))
    root1, root2 = mth(leaves[:size1]), mth(leaves)
    p = proof(size1, leaves)
    mutation = data.draw(st.sampled_from(["flip", "drop", "add", "reorder", "size1", "size2", "roots"]))
    if mutation == "flip":
        bad = flip(p, data.draw(st.integers(0, len(p) - 1)), data.draw(st.integers(0, 255)))
        with pytest.raises(RootMismatch):
            verify_consistency(size1, size2, root1, root2, bad)
    elif mutation == "drop":
        i = data.draw(st.integers(0, len(p) - 1))
        with pytest.raises(ProofLengthMismatch):
            verify_consistency(size1, size2, root1, root2, p[:i] + p[i + 1 :])
    elif mutation == "add":
        i = data.draw(st.integers(0, len(p)))
        extra = data.draw(st.binary(min_size=32, max_size=32))
        with pytest.raises(ProofLengthMismatch):
            verify_consistency(size1, size2, root1, root2, [*p[:i], extra, *p[i:]])
    elif mutation == "reorder":
        assume(len(p) >= 2)
        i, j = sorted(data.draw(st.lists(st.integers(0, len(p) - 1), min_size=2, max_size=2, unique=True)))
        bad = list(p)
        bad[i], bad[j] = bad[j], bad[i]
        with pytest.raises(RootMismatch):
            verify_consistency(size1, size2, root1, root2, bad)
    elif mutation == "size1":  # another first size, with that size's real root
        other = data.draw(st.integers(-1, size2 + 1).filter(lambda k: k != size1))
        other_root = mth(leaves[: max(other, 0)])
        with pytest.raises(ProofError):
            verify_consistency(other, size2, other_root, root2, p)
    elif mutation == "size2":  # another second size, with that size's real root
        other = data.draw(st.integers(0, 80).filter(lambda k: k != size2))
        bigger = [*leaves, *(b"\xff" + bytes([k]) * 13 for k in range(80))]
        with pytest.raises(ProofError):
            verify_consistency(size1, other, root1, mth(bigger[:other]), p)
    else:
        with pytest.raises(RootMismatch):
            verify_consistency(size1, size2, root2, root1, p)


# ---------------------------------------------------------------- interop with PyPI pymerkle
# pymerkle (security mode, the default) hashes exactly as RFC 9162 §2.1.1 and numbers leaves from 1.
# Inclusion: its proof path is [leaf hash] + PATH(m, D[n]) bottom up, so ours is ``path[1:]`` and
# theirs is ``InclusionProof(..., index + 1, rule, [leaf, *ours])`` with its own rule bits.
# Consistency: its path holds finer subtree roots than RFC 9162 PROOF (e.g. both leaves 6 and 7 where
# the RFC sends MTH(D[6:8])), so ours is rebuilt from theirs by hashing the leaf ranges the RFC nodes
# cover out of the ranges its layout names; theirs cannot be rebuilt from ours.
def pymerkle_tree(leaves: Sequence[bytes]) -> InmemoryTree:
    tree = InmemoryTree(algorithm="sha256")
    for data in leaves:
        tree.append_entry(data)
    return tree


def ranges_of(coords_proof: Sequence[Coord], begin: int, end: int) -> list[tuple[int, int]]:
    return [(i << lv, (i + 1) << lv) for lv, i in coords_proof[begin:end]]


def rfc_from_pymerkle_consistency(p: ConsistencyProof, size1: int, size2: int) -> list[bytes]:
    """Rebuild RFC 9162 PROOF(size1, D[size2]) from a pymerkle consistency proof's subtree roots."""
    _, _, ranges = _consistency_path_layout(size1, size2)
    known = dict(zip(map(tuple, ranges), p.path, strict=True))

    def mth_of(a: int, b: int) -> bytes:
        if (a, b) in known:
            return known[(a, b)]
        k = 1 << ((b - a - 1).bit_length() - 1)
        return SHA256.node_hash(mth_of(a, a + k), mth_of(a + k, b))

    nodes = consistency_nodes(size1, size2)
    out: list[bytes] = []
    i = 0
    while i < len(nodes.coords):
        if nodes.begin <= i < nodes.end:  # the ephemeral node: the union of the run's ranges
            spans = ranges_of(nodes.coords, nodes.begin, nodes.end)
            out.append(mth_of(min(a for a, _ in spans), max(b for _, b in spans)))
            i = nodes.end
        else:
            level, index = nodes.coords[i]
            out.append(mth_of(index << level, (index + 1) << level))
            i += 1
    return out


def test_pymerkle_root_is_rfc9162_mth_of_the_kat_leaves():
    tree = pymerkle_tree(KAT_LEAVES)
    assert all(tree.get_root(n) == kat_root(n) for n in range(1, 9))


@settings(max_examples=40, deadline=None)
@given(distinct_leaves, st.data())
def test_pymerkle_and_our_inclusion_proofs_verify_with_each_other(leaves, data):
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    tree = pymerkle_tree(leaves)
    theirs = tree.prove_inclusion(index + 1, size)
    leaf, root = SHA256.leaf_hash(leaves[index]), tree.get_root(size)
    verify_inclusion(index, size, leaf, theirs.path[1:], root)

    ours = inclusion_proof(index, size, lookup_over(leaves))
    rule, _ = _inclusion_path_layout(index + 1, size)
    InclusionProof("sha256", True, size, index + 1, rule, [leaf, *ours]).verify(leaf, root, index + 1, size)
    if ours:
        bad = flip(ours, 0, 0)
        with pytest.raises(InvalidProof):
            InclusionProof("sha256", True, size, index + 1, rule, [leaf, *bad]).verify(leaf, root)
        with pytest.raises(RootMismatch):
            verify_inclusion(index, size, leaf, bad, root)


@settings(max_examples=40, deadline=None)
@given(distinct_leaves.filter(lambda xs: len(xs) >= 2), st.data())
def test_pymerkle_consistency_proofs_convert_to_ours_and_verdicts_agree(leaves, data):
    size2 = len(leaves)
    size1 = data.draw(st.integers(1, size2 - 1))
    tree = pymerkle_tree(leaves)
    theirs = tree.prove_consistency(size1, size2)
    root1, root2 = tree.get_root(size1), tree.get_root(size2)
    converted = rfc_from_pymerkle_consistency(theirs, size1, size2)
    assert converted == consistency_proof(size1, size2, lookup_over(leaves))
    verify_consistency(size1, size2, root1, root2, converted)

    # When size1 is a power of two the RFC proof omits MTH(D[0:size1]) (the verifier holds root1);
    # pymerkle still carries it, so tampering with it only changes pymerkle's verdict.
    power_of_two = size1 & (size1 - 1) == 0
    usable = [i for i, mask in enumerate(theirs.subset) if not (mask and power_of_two)]
    element = data.draw(st.sampled_from(usable))
    tampered = ConsistencyProof(
        "sha256", True, size2, size1, theirs.rule, theirs.subset, flip(list(theirs.path), element, 3)
    )
    with pytest.raises(InvalidProof):
        tampered.verify(root1, root2, size1, size2)
    with pytest.raises(RootMismatch):
        verify_consistency(size1, size2, root1, root2, rfc_from_pymerkle_consistency(tampered, size1, size2))
