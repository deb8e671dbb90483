from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrity.merkle.compact import CompactRange, perfect_subtrees
from integrity.merkle.hashes import SHA256, SM3, Hasher
from tests.integrity.reference_tree import mth
from tests.integrity.vectors import load

# Published in the certificate-transparency merkle tests (RFC 6962 test leaves, tree of size 8).
CT_SIZE_8_ROOT = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"

leaf_lists = st.lists(st.binary(max_size=40), max_size=70)


def test_vector_file_size_8_root_matches_published_value():
    vec = load("rfc9162_roots.json")
    assert vec["roots"][8]["root_hex"] == CT_SIZE_8_ROOT


def test_compact_root_matches_rfc9162_vectors_for_every_prefix():
    vec = load("rfc9162_roots.json")
    leaves = [bytes.fromhex(x) for x in vec["leaves_hex"]]
    rng = CompactRange()
    roots = [rng.root().hex()]
    for data in leaves:
        rng.append(SHA256.leaf_hash(data))
        roots.append(rng.root().hex())
    assert roots == [r["root_hex"] for r in vec["roots"]]


def test_empty_range_root_is_empty_tree_hash():
    assert CompactRange().root() == SHA256.digest(b"")
    assert CompactRange(SM3).root() == SM3.digest(b"")


@settings(max_examples=60, deadline=None)
@given(leaf_lists)
def test_compact_root_equals_naive_mth_for_every_prefix(leaves):
    rng = CompactRange()
    for i, data in enumerate(leaves):
        rng.append(SHA256.leaf_hash(data))
        assert rng.size == i + 1
        assert rng.root() == mth(leaves[: i + 1])


@settings(max_examples=60, deadline=None)
@given(leaf_lists)
def test_from_nodes_root_equals_naive_mth(leaves):
    """Nodes reported by append, picked by perfect_subtrees, rebuild the range of any prefix."""
    stored: dict[tuple[int, int], bytes] = {}
    rng = CompactRange()
    for data in leaves:
        for node in rng.append(SHA256.leaf_hash(data)):
            assert (node.level, node.index) not in stored  # each node is completed exactly once
            stored[(node.level, node.index)] = node.hash
    for size in range(len(leaves) + 1):
        hashes = [stored[c] for c in perfect_subtrees(size)]
        rebuilt = CompactRange.from_nodes(size, hashes)
        assert rebuilt.root() == mth(leaves[:size])


@settings(max_examples=30, deadline=None)
@given(leaf_lists)
def test_sm3_compact_root_equals_naive_sm3_mth(leaves):
    rng = CompactRange(SM3)
    for data in leaves:
        rng.append(SM3.leaf_hash(data))
    assert rng.root() == mth(leaves, SM3)


@given(st.integers(min_value=0, max_value=2**40))
def test_perfect_subtrees_tile_the_range_exactly(size):
    start = 0
    for level, index in perfect_subtrees(size):
        assert index << level == start
        start += 1 << level
    assert start == size
    levels = [lv for lv, _ in perfect_subtrees(size)]
    assert levels == sorted(levels, reverse=True)
    assert len(levels) == bin(size).count("1")


def test_perfect_subtrees_of_zero_is_empty():
    assert perfect_subtrees(0) == []


def test_perfect_subtrees_rejects_negative_size():
    with pytest.raises(ValueError, match="-1"):
        perfect_subtrees(-1)


def test_append_reports_leaf_and_completed_parents():
    rng = CompactRange()
    for i in range(3):
        rng.append(SHA256.leaf_hash(bytes([i])))
    nodes = rng.append(SHA256.leaf_hash(b"\x03"))  # leaf 3 completes (1,1) and (2,0)
    assert [(n.level, n.index) for n in nodes] == [(0, 3), (1, 1), (2, 0)]
    assert nodes[-1].hash == rng.root()


def test_from_nodes_rejects_wrong_node_count():
    with pytest.raises(ValueError, match="needs 2 node hashes"):
        CompactRange.from_nodes(3, [bytes(32)])


def test_from_nodes_rejects_wrong_hash_length():
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange.from_nodes(1, [bytes(20)])


def test_append_rejects_wrong_leaf_hash_length():
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange().append(b"short")


def test_range_with_other_hasher_keeps_hasher():
    h = Hasher("sha512")
    rng = CompactRange(h)
    rng.append(h.leaf_hash(b"x"))
    assert rng.root() == h.leaf_hash(b"x")
    assert rng.hasher is h
