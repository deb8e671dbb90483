from __future__ import annotations

import hashlib

import pytest

from integrity.merkle.hashes import EMPTY_ROOT, SM3, Hasher, leaf_hash, node_hash


def test_empty_root_is_sha256_of_nothing():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_leaf_hash_prefixes_zero_byte():
    # RFC 9162 §2.1.1; the leaf hash of the empty string is the well-known CT value.
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()


def test_node_hash_prefixes_one_byte():
    left, right = bytes(32), bytes([1]) * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def test_node_hash_is_not_leaf_hash_of_concatenation():
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) != leaf_hash(left + right)


def test_node_hash_rejects_short_child():
    with pytest.raises(ValueError, match="32 bytes"):
        node_hash(bytes(31), bytes(32))


def test_sm3_hasher_uses_sm3():
    # GB/T 32905 test vector 1: SM3("abc").
    assert SM3.digest(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert leaf_hash(b"abc", SM3) == SM3.digest(b"\x00abc")
    assert SM3.digest_size == 32


def test_hasher_rejects_unknown_algorithm():
    with pytest.raises(ValueError, match="no-such-hash"):
        Hasher("no-such-hash")
