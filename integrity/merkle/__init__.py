"""RFC 9162 Merkle tree maths for the ledger: hashing (``hashes``) and a compact range (``compact``).

Proof construction and verification live in other modules of this package, owned elsewhere.
"""

from integrity.merkle.compact import CompactRange, Node, perfect_subtrees
from integrity.merkle.hashes import EMPTY_ROOT, SHA256, SM3, Hasher, leaf_hash, node_hash

__all__ = [
    "EMPTY_ROOT",
    "SHA256",
    "SM3",
    "CompactRange",
    "Hasher",
    "Node",
    "leaf_hash",
    "node_hash",
    "perfect_subtrees",
]
