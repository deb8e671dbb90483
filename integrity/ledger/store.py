"""The ledger store: an append-only RFC 9162 Merkle log kept in the catalog database.

Tables (``archive.catalog.models``): ``ledger_leaves`` (canonical JSON event + leaf hash),
``ledger_nodes`` (the hash of every complete perfect subtree, written once when it completes),
``ledger_head`` (one row, id 1: current size and root; locked FOR UPDATE to serialise appends) and
``checkpoints`` (signed C2SP checkpoints).

Appending reads only the ``popcount(size)`` nodes of the current compact range, checks they still
give the stored head root, then writes the leaf, the nodes it completes and the new head — O(log n)
rows, never the whole leaf table. The store never commits or rolls back: the caller (the ingest
service, the audit runner) owns the transaction, so the catalog rows and the leaf commit together.
Checkpoint policy (:meth:`LedgerStore.sign_checkpoint`): the log never signs two inconsistent
checkpoints. Before signing it proves, from stored nodes, that the current tree extends the last
signed one (an RFC 9162 §2.1.4 consistency proof checked with :mod:`integrity.merkle.proofs`) and
refuses with :class:`InconsistentCheckpoint` otherwise. A note may carry several signatures
(Ed25519 and, where national cryptography is required, SM2 from :mod:`integrity.sm2`).
Proof serving and checking that the nodes match the leaves are left to others
(:mod:`integrity.ledger.proofs`, :mod:`integrity.ledger.verify`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.catalog.models import Checkpoint as CheckpointRow
from archive.catalog.models import LedgerHead, LedgerLeaf, LedgerNode
from integrity.canonical import canonical_json
from integrity.checkpoint import MalformedCheckpoint, format_checkpoint, parse_checkpoint
from integrity.events import EVENT_TYPES
from integrity.merkle import proofs as merkle_proofs
from integrity.merkle.compact import CompactRange, perfect_subtrees
from integrity.merkle.hashes import SHA256, Hasher
from integrity.signed_note import NoteSigner, sign_note
from standards.errors import BadInput, StorageError, StorageUnavailable, VerificationFailed

HEAD_ID = 1


# ---------------------------------------------------------------- errors
class LedgerNodeMissing(VerificationFailed):
    """A tree node the stored size implies is not in ``ledger_nodes``."""

    code = "ledger_node_missing"


class LedgerHeadMismatch(VerificationFailed):
    """The stored nodes do not give the root recorded in ``ledger_head``."""

    code = "ledger_head_mismatch"


class InconsistentCheckpoint(VerificationFailed):
    """The current tree does not extend the last signed checkpoint, so the log refuses to sign."""

    code = "ledger_checkpoint_inconsistent"


class TreeSizeOutOfRange(BadInput):
    """A requested tree size or leaf index is beyond the current tree."""

    code = "ledger_size_out_of_range"


# ---------------------------------------------------------------- values
@dataclass(frozen=True)
class AppendedLeaf:
    """Where an event landed: its leaf index and hash, and the new tree size and root."""

    index: int
    leaf_hash: bytes
    size: int
    root: bytes


@dataclass(frozen=True)
class TreeHead:
    """The current tree size and root (size 0 and the empty root before the first append)."""

    size: int
    root: bytes


@dataclass(frozen=True)
class StoredLeaf:
    """One stored leaf: the canonical JSON bytes, their leaf hash, the event type and time."""

    index: int
    leaf_hash: bytes
    data: bytes
    kind: str
    created_at: dt.datetime


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored (the whole signed note plus its parsed fields)."""

    origin: str
    size: int
    root: bytes
    note: str
    key_id: str
    created_at: dt.datetime
    id: int | None = None  # the checkpoints row id (timestamps refer to it)


# Statements built once, so SQLAlchemy caches their compiled form (an append runs them all).
# Core statements on the tables (not the ORM entities) run on the session's connection without
# unit-of-work bookkeeping.
_NODES = cast(Table, LedgerNode.__table__)


@functools.lru_cache(maxsize=256)
def _read_nodes_stmt(count: int) -> Select[Any]:
    """``level = ? AND index = ?`` OR-ed ``count`` times, built once per count.

    Equality terms on the primary key let SQLite and PostgreSQL answer with ``count`` index
    lookups; a row-value ``(level, index) IN (VALUES …)`` made SQLite scan the whole table.
    """
    terms = (
        and_(_NODES.c.level == bindparam(f"l{i}"), _NODES.c.index == bindparam(f"i{i}")) for i in range(count)
    )
    return select(_NODES.c.level, _NODES.c.index, _NODES.c.hash).where(or_(*terms))


_INSERT_LEAF = insert(cast(Table, LedgerLeaf.__table__))
_INSERT_NODE = insert(_NODES)
_HEAD = cast(Table, LedgerHead.__table__)
_UPDATE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ID, _HEAD.c.size == bindparam("old_size"))
    .values(size=bindparam("size"), root_hash=bindparam("root_hash"), updated_at=bindparam("updated_at"))
)


@contextmanager
def _db_errors(action: str) -> Iterator[None]:
    """Translate SQLAlchemy failures into the storage families (DESIGN: errors at the edge).

    ``IntegrityError`` passes through untranslated: a flush here also flushes the caller's pending
    rows, and the caller (e.g. ingest racing on a unique 案号) must see its own constraint errors.
    """
    try:
        yield
    except IntegrityError:
        raise
    except OperationalError as exc:
        cause = type(exc.orig).__name__
        raise StorageUnavailable(f"ledger {action}: database unavailable ({cause})") from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"ledger {action}: database error ({type(exc).__name__})") from exc


class LedgerStore:
    """RFC 9162 log over SQLAlchemy sessions; holds no state besides the hash function.

    Every method takes the caller's :class:`Session` and never commits.
    """

    def __init__(self, hasher: Hasher = SHA256) -> None:
        self.hasher = hasher

    # ------------------------------------------------------------ reads
    def head(self, session: Session) -> TreeHead:
        """The current tree head.

        Raises:
            StorageError, StorageUnavailable: the database failed.
        """
        with _db_errors("head"):
            row = session.get(LedgerHead, HEAD_ID)
        if row is None:
            return TreeHead(0, self.hasher.empty_root())
        return TreeHead(row.size, bytes(row.root_hash))

    def read_nodes(self, session: Session, coords: Sequence[tuple[int, int]]) -> list[bytes]:
        """The hashes of the nodes ``(level, index)``, in the order asked.

        Raises:
            LedgerNodeMissing: a node is not stored.
            StorageError, StorageUnavailable: the database failed.
        """
        if not coords:
            return []
        with _db_errors("read nodes"):
            params: dict[str, int] = {}
            for i, (level, index) in enumerate(coords):
                params[f"l{i}"], params[f"i{i}"] = level, index
            rows = session.connection().execute(_read_nodes_stmt(len(coords)), params)
            found = {(int(row[0]), int(row[1])): bytes(row[2]) for row in rows}
        missing = [c for c in coords if c not in found]
        if missing:
            lv, ix = missing[0]
            raise LedgerNodeMissing(
                f"ledger node (level {lv}, index {ix}): expected in ledger_nodes, found nothing"
                f" ({len(missing)} missing)"
            )
        return [found[c] for c in coords]

    def root_at(self, session: Session, size: int) -> bytes:
        """RFC 9162 ``MTH(D[0:size])`` for any ``0 <= size <= head.size``, from O(log n) nodes.

        Raises:
            TreeSizeOutOfRange: ``size`` is negative or beyond the current tree.
            LedgerNodeMissing: a needed node is not stored.
            StorageError, StorageUnavailable: the database failed.
        """
        current = self.head(session).size
        if not 0 <= size <= current:
            raise TreeSizeOutOfRange(f"tree size: expected 0..{current}, found {size}")
        hashes = self.read_nodes(session, perfect_subtrees(size))
        return CompactRange.from_nodes(size, hashes, self.hasher).root()

    def leaf(self, session: Session, index: int) -> StoredLeaf:
        """The stored leaf at ``index``.

        Raises:
            TreeSizeOutOfRange: there is no leaf ``index``.
            StorageError, StorageUnavailable: the database failed.
        """
        with _db_errors("read leaf"):
            row = session.get(LedgerLeaf, index)
        if row is None:
            raise TreeSizeOutOfRange(f"leaf index: {index} is not in the ledger")
        return StoredLeaf(row.leaf_index, bytes(row.leaf_hash), bytes(row.data), row.kind, row.created_at)

    def latest_checkpoint(self, session: Session) -> StoredCheckpoint | None:
        """The most recently written checkpoint, or ``None`` if none was signed yet.

        Raises:
            StorageError, StorageUnavailable: the database failed.
        """
        with _db_errors("read checkpoint"):
            row = session.scalars(select(CheckpointRow).order_by(CheckpointRow.id.desc()).limit(1)).first()
        if row is None:
            return None
        return StoredCheckpoint(
            row.origin, row.size, bytes(row.root_hash), row.note, row.key_id, row.created_at, row.id
        )

    # ------------------------------------------------------------ writes
    def _lock_head(self, session: Session, now: dt.datetime) -> LedgerHead:
        """The head row, locked FOR UPDATE; created (size 0) on first use.

        Two first appends may race to create the row: the insert does nothing on conflict (it waits
        for the other transaction on PostgreSQL) and the row is then read and locked again.
        """
        stmt = select(LedgerHead).where(LedgerHead.id == HEAD_ID).with_for_update()
        row = session.scalars(stmt).first()
        if row is not None:
            return row
        values = {"id": HEAD_ID, "size": 0, "root_hash": self.hasher.empty_root(), "updated_at": now}
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(
                pg_insert(LedgerHead).values(**values).on_conflict_do_nothing(index_elements=["id"])
            )
        elif dialect == "sqlite":
            session.execute(
                sqlite_insert(LedgerHead).values(**values).on_conflict_do_nothing(index_elements=["id"])
            )
        else:
            session.add(LedgerHead(**values))
            session.flush()
        return session.scalars(stmt.execution_options(populate_existing=True)).one()

    def append(self, session: Session, event: Mapping[str, Any], now: dt.datetime) -> AppendedLeaf:
        """Append ``event`` (RFC 8785-encoded) as the next leaf; flush, never commit.

        Writes the leaf, the nodes it completes (level 0 = the leaf hash; a parent each time the
        index is odd at a level, RFC 9162 §2.1.1) and the new head.

        Raises:
            ValueError: ``event`` has no known ``type``, or a value canonical JSON refuses.
            TypeError: ``event`` holds a float or another type canonical JSON refuses.
            LedgerNodeMissing: a node of the current compact range is not stored.
            LedgerHeadMismatch: the stored nodes do not give the stored head root.
            sqlalchemy.exc.IntegrityError: a constraint failed while flushing (possibly on the
                caller's own pending rows, or two transactions creating the head row at once).
            StorageError, StorageUnavailable: the database failed otherwise.
        """
        kind = event.get("type")
        if kind not in EVENT_TYPES:
            raise ValueError(f"event type: expected one of {', '.join(sorted(EVENT_TYPES))}, found {kind!r}")
        data = canonical_json(event)
        lh = self.hasher.leaf_hash(data)
        with _db_errors("append"):
            head = self._lock_head(session, now)
            size = head.size
            rng = CompactRange.from_nodes(size, self.read_nodes(session, perfect_subtrees(size)), self.hasher)
            if not hmac.compare_digest(rng.root(), bytes(head.root_hash)):
                raise LedgerHeadMismatch(
                    f"ledger root at size {size}: head says {bytes(head.root_hash).hex()},"
                    f" stored nodes give {rng.root().hex()}"
                )
            completed = rng.append(lh)
            root = rng.root()
            # Core statements (cached, no unit-of-work bookkeeping): an append is 3 small writes.
            conn = session.connection()
            conn.execute(
                _INSERT_LEAF,
                {"leaf_index": size, "leaf_hash": lh, "data": data, "kind": str(kind), "created_at": now},
            )
            session.execute(
                _INSERT_NODE, [{"level": n.level, "index": n.index, "hash": n.hash} for n in completed]
            )
            moved = conn.execute(
                _UPDATE_HEAD, {"size": size + 1, "root_hash": root, "updated_at": now, "old_size": size}
            )
            if moved.rowcount != 1:  # the row is locked, so only a bug can get here
                raise LedgerHeadMismatch(f"ledger head: expected size {size} while appending, found another")
            session.expire(head)
        return AppendedLeaf(index=size, leaf_hash=lh, size=size + 1, root=root)

    def _prove_extends(self, session: Session, last: StoredCheckpoint, size: int, root: bytes) -> None:
        """Check that the tree ``size``/``root`` extends ``last`` (RFC 9162 §2.1.4) from stored nodes.

        Raises:
            InconsistentCheckpoint: the stored row differs from its signed note, the tree shrank,
                or the consistency proof does not verify against both roots.
            LedgerHeadMismatch: the stored nodes do not give the head root.
            LedgerNodeMissing: a needed node is not stored.
        """
        nodes_root = CompactRange.from_nodes(
            size, self.read_nodes(session, perfect_subtrees(size)), self.hasher
        ).root()
        if not hmac.compare_digest(nodes_root, root):
            raise LedgerHeadMismatch(
                f"ledger root at size {size}: head says {root.hex()}, stored nodes give {nodes_root.hex()}"
            )
        try:  # the signed body is what auditors hold; the row's columns must say the same
            body = parse_checkpoint(
                last.note[: last.note.rfind("\n\n") + 1], hash_size=self.hasher.digest_size
            )
        except MalformedCheckpoint as exc:
            raise InconsistentCheckpoint(
                f"last checkpoint: its stored note is malformed ({exc.message})"
            ) from exc
        if (body.size, body.root) != (last.size, last.root):
            raise InconsistentCheckpoint(
                f"last checkpoint: row says size {last.size} root {last.root.hex()},"
                f" its signed note says size {body.size} root {body.root.hex()}"
            )
        if last.size > size:
            raise InconsistentCheckpoint(
                f"tree size: last signed checkpoint has {last.size} leaves, the tree now has {size}"
            )

        def lookup(coords: Sequence[tuple[int, int]]) -> list[bytes]:
            return self.read_nodes(session, coords)

        proof = merkle_proofs.consistency_proof(last.size, size, lookup, self.hasher)
        try:
            merkle_proofs.verify_consistency(last.size, size, last.root, root, proof, self.hasher)
        except merkle_proofs.ProofError as exc:
            raise InconsistentCheckpoint(
                f"consistency {last.size} -> {size}: the tree does not extend the last signed checkpoint"
                f" ({exc.message})"
            ) from exc

    def sign_checkpoint(
        self,
        session: Session,
        signer: NoteSigner | Sequence[NoteSigner],
        origin: str,
        now: dt.datetime,
    ) -> str:
        """Sign a C2SP checkpoint of the current head, store it (flush, no commit), return the note.

        ``signer`` is one key or several (e.g. Ed25519 then SM2): each adds its signature line to
        the one note; the row's ``key_id`` is the first signer's. Before signing, the current tree
        is proved consistent with the last signed checkpoint (the log never signs a fork).

        Raises:
            ValueError: no signer, or ``origin`` cannot be a checkpoint origin line.
            InconsistentCheckpoint: the tree does not extend the last signed checkpoint.
            LedgerHeadMismatch: the stored nodes do not give the head root.
            LedgerNodeMissing: a node needed for the proof is not stored.
            sqlalchemy.exc.IntegrityError: a constraint failed while flushing (see :meth:`append`).
            StorageError, StorageUnavailable: the database failed otherwise.
        """
        signers: list[NoteSigner] = list(signer) if isinstance(signer, Sequence) else [signer]
        if not signers:
            raise ValueError("sign_checkpoint needs at least one signer")
        with _db_errors("sign checkpoint"):
            head = self._lock_head(session, now)
            size, root = head.size, bytes(head.root_hash)
            last = self.latest_checkpoint(session)
            if last is not None:
                self._prove_extends(session, last, size, root)
            note = sign_note(format_checkpoint(origin, size, root), *signers)
            session.add(
                CheckpointRow(
                    origin=origin,
                    size=size,
                    root_hash=root,
                    note=note,
                    key_id=signers[0].key_id.hex(),
                    created_at=now,
                )
            )
            session.flush()
        return note
