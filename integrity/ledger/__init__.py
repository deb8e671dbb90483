"""The ledger: an RFC 9162 Merkle log of archive events in the catalog database (see ``store``)."""

from integrity.ledger.store import (
    AppendedLeaf,
    LedgerHeadMismatch,
    LedgerNodeMissing,
    LedgerStore,
    StoredCheckpoint,
    StoredLeaf,
    TreeHead,
    TreeSizeOutOfRange,
)

__all__ = [
    "AppendedLeaf",
    "LedgerHeadMismatch",
    "LedgerNodeMissing",
    "LedgerStore",
    "StoredCheckpoint",
    "StoredLeaf",
    "TreeHead",
    "TreeSizeOutOfRange",
]
