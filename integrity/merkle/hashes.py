"""RFC 9162 §2.1.1 Merkle tree hashing: leaf, interior node and empty-tree hashes.

``MTH({}) = HASH()``, ``leaf = HASH(0x00 || data)``, ``node = HASH(0x01 || left || right)``.
The hash function is a parameter (a :class:`Hasher` named by its :mod:`hashlib` name) so an SM3
log (GB/T 32905) is a configuration of the same code; SHA-256 is the default. Tree shape, ranges
and proofs are left to the other modules of :mod:`integrity.merkle`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

LEAF_PREFIX = b"\x00"  # RFC 9162 §2.1.1
NODE_PREFIX = b"\x01"  # RFC 9162 §2.1.1


@dataclass(frozen=True)
class Hasher:
    """The tree hash function, by :mod:`hashlib` name (``"sha256"``, ``"sm3"``, ...).

    >>> Hasher("sha256").empty_root().hex()[:16]
    'e3b0c44298fc1c14'

    Raises:
        ValueError: (on construction) the local OpenSSL does not provide ``name``.
    """

    name: str = "sha256"
    digest_size: int = field(init=False)

    def __post_init__(self) -> None:
        try:
            size = hashlib.new(self.name).digest_size
        except (ValueError, TypeError):
            raise ValueError(f"unsupported Merkle hash algorithm {self.name!r}") from None
        if size == 0:
            raise ValueError(f"hash algorithm {self.name!r} has a variable digest size")
        object.__setattr__(self, "digest_size", size)

    def digest(self, data: bytes) -> bytes:
        """``HASH(data)``."""
        return hashlib.new(self.name, data).digest()

    def empty_root(self) -> bytes:
        """RFC 9162 §2.1.1: the hash of an empty tree, ``HASH()``."""
        return self.digest(b"")

    def leaf_hash(self, data: bytes) -> bytes:
        """RFC 9162 §2.1.1: ``HASH(0x00 || data)``."""
        return self.digest(LEAF_PREFIX + data)

    def node_hash(self, left: bytes, right: bytes) -> bytes:
        """RFC 9162 §2.1.1: ``HASH(0x01 || left || right)``.

        Raises:
            ValueError: either child is not ``digest_size`` bytes long.
        """
        if len(left) != self.digest_size or len(right) != self.digest_size:
            raise ValueError(
                f"node children must be {self.digest_size} bytes (found {len(left)} and {len(right)})"
            )
        return self.digest(NODE_PREFIX + left + right)


SHA256 = Hasher("sha256")
SM3 = Hasher("sm3")
EMPTY_ROOT = SHA256.empty_root()


def leaf_hash(data: bytes, hasher: Hasher = SHA256) -> bytes:
    """RFC 9162 §2.1.1 leaf hash ``HASH(0x00 || data)`` (SHA-256 unless ``hasher`` says otherwise)."""
    return hasher.leaf_hash(data)


def node_hash(left: bytes, right: bytes, hasher: Hasher = SHA256) -> bytes:
    """RFC 9162 §2.1.1 interior node hash ``HASH(0x01 || left || right)``.

    Raises:
        ValueError: a child has the wrong length for ``hasher``.
    """
    return hasher.node_hash(left, right)
