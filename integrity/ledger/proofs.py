"""Inclusion and consistency proofs from the ledger tables (RFC 9162 §2.1.3, §2.1.4).

The proof maths is :mod:`integrity.merkle.proofs`; this module only feeds it stored node hashes. A
proof reads the O(log n) complete subtree nodes :func:`~integrity.merkle.proofs.inclusion_nodes` /
:func:`~integrity.merkle.proofs.consistency_nodes` name (one ``LedgerStore.read_nodes`` query); an
incomplete right-border subtree is folded from its perfect subtrees (a compact range), never from
the leaves. Every function takes the caller's :class:`Session` and neither commits nor writes.

What a proof is *for* (evidence bundles, checkpoint consistency before signing, ``ledger verify``)
is left to other modules.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.catalog.models import Dossier
from integrity.ledger.store import LedgerStore, TreeSizeOutOfRange
from integrity.merkle import proofs as merkle
from integrity.merkle.hashes import SHA256, Hasher
from standards.errors import BadInput, StorageError


class ArchiveNotInLedger(BadInput):
    """No archived dossier has this archive id, so it has no leaf to prove."""

    code = "ledger_archive_unknown"


@dataclass(frozen=True)
class ArchiveInclusion:
    """A dossier's leaf and its inclusion proof in the tree of ``size`` with ``root``.

    Unpacks as ``index, size, leaf_hash, proof, root``.
    """

    index: int
    size: int
    leaf_hash: bytes
    proof: tuple[bytes, ...]
    root: bytes

    def __iter__(self) -> Iterator[Any]:
        return iter((self.index, self.size, self.leaf_hash, self.proof, self.root))


def _lookup(session: Session, store: LedgerStore) -> merkle.NodeLookup:
    def read(coords: Sequence[merkle.Coord]) -> list[bytes]:
        return store.read_nodes(session, coords)

    return read


def inclusion_proof(session: Session, index: int, size: int, hasher: Hasher = SHA256) -> list[bytes]:
    """The RFC 9162 §2.1.3.1 inclusion proof of leaf ``index`` in the ledger tree of ``size``.

    Raises:
        TreeSizeOutOfRange: ``size`` is beyond the current tree, or ``index`` not in ``[0, size)``.
        LedgerNodeMissing: a needed node is not stored.
        StorageError, StorageUnavailable: the database failed.
    """
    store = LedgerStore(hasher)
    current = store.head(session).size
    if not 0 <= size <= current:
        raise TreeSizeOutOfRange(f"tree size: expected 0..{current}, found {size}")
    if not 0 <= index < size:
        raise TreeSizeOutOfRange(f"leaf index: expected 0..{size - 1} for tree size {size}, found {index}")
    return merkle.inclusion_proof(index, size, _lookup(session, store), hasher)


def consistency_proof(session: Session, size1: int, size2: int, hasher: Hasher = SHA256) -> list[bytes]:
    """The RFC 9162 §2.1.4.1 consistency proof between the ledger trees of ``size1`` and ``size2``.

    Empty when ``size1`` is 0 or equal to ``size2``.

    Raises:
        TreeSizeOutOfRange: not ``0 <= size1 <= size2 <= head size``.
        LedgerNodeMissing: a needed node is not stored.
        StorageError, StorageUnavailable: the database failed.
    """
    store = LedgerStore(hasher)
    current = store.head(session).size
    if not 0 <= size1 <= size2 <= current:
        raise TreeSizeOutOfRange(
            f"tree sizes: expected 0 <= size1 <= size2 <= {current}, found size1={size1}, size2={size2}"
        )
    return merkle.consistency_proof(size1, size2, _lookup(session, store), hasher)


def inclusion_proof_for_archive(
    session: Session, archive_id: str, hasher: Hasher = SHA256
) -> ArchiveInclusion:
    """The inclusion proof of a dossier's ``dossier.archived`` leaf (``Dossier.leaf_index``).

    The tree is the latest signed checkpoint's when it covers the leaf (so the proof matches a
    signature an auditor can check), otherwise the current head. The proof is verified against that
    root before it is returned: a corrupted node table yields an error, never a bad proof.

    Raises:
        ArchiveNotInLedger: no dossier has ``archive_id``.
        TreeSizeOutOfRange: the dossier's leaf index is not in the ledger.
        LedgerNodeMissing: a needed node is not stored.
        ProofError (integrity.merkle.proofs): the stored nodes do not prove the stored leaf into the
            checkpoint or head root.
        StorageError, StorageUnavailable: the database failed.
    """
    store = LedgerStore(hasher)
    try:
        dossier = session.get(Dossier, archive_id)
    except SQLAlchemyError as exc:
        raise StorageError(f"ledger proof: database error reading dossier ({type(exc).__name__})") from exc
    if dossier is None:
        raise ArchiveNotInLedger(f"archive id: no archived dossier {archive_id!r}")
    index = int(dossier.leaf_index)
    leaf = store.leaf(session, index)
    checkpoint = store.latest_checkpoint(session)
    if checkpoint is not None and index < checkpoint.size:
        size, root = checkpoint.size, checkpoint.root
    else:
        head = store.head(session)
        size, root = head.size, head.root
    proof = inclusion_proof(session, index, size, hasher)
    merkle.verify_inclusion(index, size, leaf.leaf_hash, proof, root, hasher)
    return ArchiveInclusion(index, size, leaf.leaf_hash, tuple(proof), root)
