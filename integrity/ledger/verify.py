"""Whole-ledger verification: recompute the tree from the stored leaves and check everything stored.

What is checked (issue 3, item 5), each problem reported as a :class:`Finding` with its position:

* every leaf row: present at its index (no gaps), ``leaf_hash = HASH(0x00 || data)`` (RFC 9162
  §2.1.1), the ``kind`` column equals the event ``type`` in the data;
* every stored node equals the node recomputed from the leaves; no node is missing or extra;
* the head (size, root) equals the recomputed tree;
* every checkpoint: the signed note opens with a known verifier key (current and retired),
  its body (C2SP tlog-checkpoint) says what the row says, its root equals the recomputed root at
  its size, and, in id order, sizes never decrease (a *rolled-back* checkpoint), a repeated size
  keeps its root (a *fork*) and consecutive checkpoints are consistent, i.e. both are prefixes of
  the one tree recomputed from the leaves (RFC 9162 §2.1.4's property, checked on the tree itself).

The tree is recomputed streaming, in chunks of leaves with the nodes those leaves complete, through a
:class:`~integrity.merkle.compact.CompactRange`: O(n) time, O(log n + chunk) memory. The decisions
are pure functions over plain values; :func:`check_ledger` is the thin reader that feeds them from
a :class:`Session` (it never writes). Which keys to trust is the caller's choice
(:func:`integrity.ledger.rotation.load_known_verifiers`).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, literal, or_, select, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.catalog.models import Checkpoint as CheckpointRow
from archive.catalog.models import LedgerHead, LedgerLeaf, LedgerNode
from integrity.checkpoint import parse_checkpoint
from integrity.ledger.store import HEAD_ID
from integrity.merkle.compact import CompactRange, Node
from integrity.merkle.hashes import SHA256, Hasher
from integrity.signed_note import NoteVerifier, open_note
from standards.errors import EdossierError, StorageError, VerificationFailed

CHUNK = 2048
MAX_FINDINGS = 1000


class LedgerTampered(VerificationFailed):
    """The stored ledger does not match itself or its signed checkpoints."""

    code = "ledger_tampered"


@dataclass(frozen=True)
class Finding:
    """One problem, with where it is: a leaf index, a node ``(level, index)`` and/or a checkpoint id."""

    code: str
    message: str
    leaf_index: int | None = None
    node: tuple[int, int] | None = None
    checkpoint_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class CheckpointFacts:
    """A checkpoint row as the order checks need it."""

    id: int
    size: int
    root: bytes


@dataclass(frozen=True)
class LedgerReport:
    """The verdict: what was checked and every finding (``ok`` needs checks run and none failed)."""

    size: int
    root: bytes | None
    leaves_checked: int
    nodes_checked: int
    checkpoints_checked: int
    findings: tuple[Finding, ...]
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings and (self.leaves_checked > 0 or self.size == 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root.hex() if self.root is not None else None,
            "leaves_checked": self.leaves_checked,
            "nodes_checked": self.nodes_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "truncated": self.truncated,
            "findings": [f.as_dict() for f in self.findings],
        }


# ---------------------------------------------------------------- pure decisions
def check_leaf_row(
    index: int, leaf_hash: bytes, data: bytes, kind: str, hasher: Hasher = SHA256
) -> list[Finding]:
    """A stored leaf against its own data: the leaf hash and the event type."""
    out: list[Finding] = []
    computed = hasher.leaf_hash(data)
    if not hmac.compare_digest(computed, leaf_hash):
        msg = f"leaf {index}: stored hash {leaf_hash.hex()}, HASH(0x00 || data) is {computed.hex()}"
        out.append(Finding("leaf_hash_mismatch", msg, leaf_index=index))
    try:
        found = json.loads(data).get("type")
    except (ValueError, AttributeError):
        found = None
    if found != kind:
        msg = f"leaf {index}: kind column {kind!r}, event type {found!r}"
        out.append(Finding("leaf_kind_mismatch", msg, leaf_index=index))
    return out


def check_nodes(completed: Iterable[Node], stored: Mapping[tuple[int, int], bytes]) -> list[Finding]:
    """Recomputed nodes against the stored ones (missing or different)."""
    out: list[Finding] = []
    for n in completed:
        got = stored.get((n.level, n.index))
        at, first = f"node (level {n.level}, index {n.index})", n.index << n.level
        if got is None:
            out.append(Finding("node_missing", f"{at}: not stored", first, (n.level, n.index)))
        elif not hmac.compare_digest(got, n.hash):
            msg = f"{at}: stored {got.hex()}, leaves give {n.hash.hex()}"
            out.append(Finding("node_mismatch", msg, first, (n.level, n.index)))
    return out


def check_head(head_size: int, head_root: bytes, size: int, root: bytes | None) -> list[Finding]:
    """The head row against the recomputed tree (``root`` None: the tree could not be recomputed)."""
    if head_size != size:
        return [Finding("head_size_mismatch", f"ledger head: size {head_size}, leaves give {size}")]
    if root is not None and not hmac.compare_digest(head_root, root):
        msg = f"ledger head: root {head_root.hex()}, leaves give {root.hex()}"
        return [Finding("head_root_mismatch", msg)]
    return []


def check_checkpoint_root(cp: CheckpointFacts, recomputed: bytes | None) -> list[Finding]:
    """A checkpoint's root against the root recomputed at its size (None: beyond or unrecoverable)."""
    if recomputed is None:
        msg = f"checkpoint {cp.id}: size {cp.size} is not covered by the recomputable leaves"
        return [Finding("checkpoint_beyond_tree", msg, checkpoint_id=cp.id)]
    if not hmac.compare_digest(recomputed, cp.root):
        msg = f"checkpoint {cp.id}: root at size {cp.size} is {cp.root.hex()}, leaves give {recomputed.hex()}"
        return [Finding("checkpoint_root_mismatch", msg, checkpoint_id=cp.id)]
    return []


def check_checkpoint_note(
    origin: str,
    cp: CheckpointFacts,
    note: str,
    verifiers: Sequence[NoteVerifier],
    *,
    expected_origin: str | None = None,
    hasher: Hasher = SHA256,
) -> list[Finding]:
    """The signed note of a row: signature by a known key, body equal to the row's columns."""
    try:
        body = parse_checkpoint(open_note(note, verifiers).text, hash_size=hasher.digest_size)
    except EdossierError as error:
        msg = f"checkpoint {cp.id}: {error.code}: {error.message}"
        return [Finding("checkpoint_signature", msg, checkpoint_id=cp.id)]
    out: list[Finding] = []
    if (body.origin, body.size, body.root) != (origin, cp.size, cp.root):
        msg = (
            f"checkpoint {cp.id}: row says {origin} {cp.size} {cp.root.hex()},"
            f" signed note says {body.origin} {body.size} {body.root.hex()}"
        )
        out.append(Finding("checkpoint_row_mismatch", msg, checkpoint_id=cp.id))
    if expected_origin is not None and body.origin != expected_origin:
        msg = f"checkpoint {cp.id}: origin expected {expected_origin!r}, found {body.origin!r}"
        out.append(Finding("checkpoint_origin_mismatch", msg, checkpoint_id=cp.id))
    return out


def check_checkpoint_order(prev: CheckpointFacts, cur: CheckpointFacts, bad_roots: set[int]) -> list[Finding]:
    """Two checkpoints consecutive in id order: no shrinking, no fork, consistent (RFC 9162 §2.1.4).

    ``bad_roots`` holds the ids whose root is not the recomputed root at their size: a pair is
    consistent exactly when both are prefixes of the one tree recomputed from the leaves.
    """
    if cur.size < prev.size:
        msg = f"checkpoint {cur.id}: size {cur.size} is smaller than size {prev.size} of checkpoint {prev.id}"
        return [Finding("checkpoint_rolled_back", msg, checkpoint_id=cur.id)]
    if cur.size == prev.size and not hmac.compare_digest(cur.root, prev.root):
        msg = (
            f"checkpoint {cur.id}: root {cur.root.hex()} differs from checkpoint {prev.id}"
            f" ({prev.root.hex()}) at the same size {cur.size}"
        )
        return [Finding("checkpoint_fork", msg, checkpoint_id=cur.id)]
    if cur.size > prev.size and (prev.id in bad_roots or cur.id in bad_roots):
        msg = (
            f"checkpoints {prev.id} (size {prev.size}) and {cur.id} (size {cur.size})"
            " are not both prefixes of the ledger's tree"
        )
        return [Finding("checkpoint_inconsistent", msg, checkpoint_id=cur.id)]
    return []


# ---------------------------------------------------------------- the reader
@dataclass
class _Walk:
    hasher: Hasher
    max_findings: int
    rng: CompactRange = field(init=False)
    findings: list[Finding] = field(default_factory=list)
    truncated: bool = False
    broken: bool = False  # a leaf and its node are both gone: no root can be recomputed past it
    leaves: int = 0
    nodes: int = 0

    def __post_init__(self) -> None:
        self.rng = CompactRange(self.hasher)

    def add(self, found: Iterable[Finding]) -> None:
        for f in found:
            if len(self.findings) >= self.max_findings:
                self.truncated = True
                return
            self.findings.append(f)

    def root(self) -> bytes | None:
        return None if self.broken else self.rng.root()


def _leaf_chunks(session: Session, chunk: int) -> Iterator[Sequence[Any]]:
    after = -1
    while True:
        stmt = (
            select(LedgerLeaf.leaf_index, LedgerLeaf.leaf_hash, LedgerLeaf.data, LedgerLeaf.kind)
            .where(LedgerLeaf.leaf_index > after)
            .order_by(LedgerLeaf.leaf_index)
            .limit(chunk)
        )
        rows = session.execute(stmt).all()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _nodes_completed(session: Session, a: int, b: int) -> dict[tuple[int, int], bytes]:
    """Stored nodes completed by the leaves at positions ``[a, b)``: index in ``[a >> l, (b >> l) - 1]``."""
    conds = [
        and_(LedgerNode.level == lv, LedgerNode.index.between(a >> lv, (b >> lv) - 1))
        for lv in range(b.bit_length() + 1)
        if (b >> lv) - 1 >= a >> lv
    ]
    if not conds:
        return {}
    rows = session.execute(select(LedgerNode.level, LedgerNode.index, LedgerNode.hash).where(or_(*conds)))
    return {(lv, ix): bytes(h) for lv, ix, h in rows}


def _checkpoints(session: Session, by_size: bool, chunk: int) -> Iterator[Any]:
    """Checkpoint rows in (size, id) or id order, a page at a time (keyset pagination)."""
    order = (CheckpointRow.size, CheckpointRow.id) if by_size else (CheckpointRow.id,)
    cols = (
        CheckpointRow.id,
        CheckpointRow.size,
        CheckpointRow.root_hash,
        CheckpointRow.origin,
        CheckpointRow.note,
    )
    stmt = select(*cols).order_by(*order).limit(chunk)
    rows = session.execute(stmt).all()
    while rows:
        yield from rows
        last = (rows[-1].size, rows[-1].id) if by_size else (rows[-1].id,)
        rows = session.execute(stmt.where(tuple_(*order) > tuple_(*map(literal, last)))).all()


def check_ledger(
    session: Session,
    verifiers: Sequence[NoteVerifier],
    *,
    origin: str | None = None,
    hasher: Hasher = SHA256,
    chunk: int = CHUNK,
    max_findings: int = MAX_FINDINGS,
) -> LedgerReport:
    """Recompute the tree from the stored leaves and check nodes, head and every checkpoint.

    Raises:
        StorageError: the database failed (an outage is never reported as tampering).
    """
    try:
        return _check(session, verifiers, origin, hasher, chunk, max_findings)
    except SQLAlchemyError as exc:
        raise StorageError(f"ledger verify: database error ({type(exc).__name__})") from exc


def _check(
    session: Session,
    verifiers: Sequence[NoteVerifier],
    origin: str | None,
    hasher: Hasher,
    chunk: int,
    max_findings: int,
) -> LedgerReport:
    walk = _Walk(hasher, max_findings)
    head = session.get(LedgerHead, HEAD_ID)
    head_size, head_root = (head.size, bytes(head.root_hash)) if head else (0, hasher.empty_root())
    cps = _checkpoints(session, True, chunk)
    pending = next(cps, None)
    bad_roots: set[int] = set()

    def settle(size: int, *, final: bool = False) -> None:
        """Check every checkpoint (in size order) up to ``size`` against the tree of ``size``."""
        nonlocal pending
        while pending is not None and (final or pending.size <= size):
            facts = CheckpointFacts(pending.id, pending.size, bytes(pending.root_hash))
            found = check_checkpoint_root(facts, walk.root() if pending.size == size else None)
            bad_roots.update(f.checkpoint_id for f in found if f.checkpoint_id is not None)
            walk.add(found)
            pending = next(cps, None)

    def missing(p: int, substitute: bytes | None) -> bytes | None:
        """Report leaf ``p`` missing; its stored leaf node stands in for it, if there is a sound one."""
        walk.add([Finding("leaf_missing", f"leaf {p}: no row in ledger_leaves", leaf_index=p)])
        if substitute is None or len(substitute) != hasher.digest_size:
            walk.broken = True
            return None
        return substitute

    settle(0)
    pos = 0  # the next leaf position; gaps are filled only below the head size
    for rows in _leaf_chunks(session, chunk):
        limit, beyond = pos, []
        for r in rows:
            if r[0] == limit or r[0] < head_size:
                limit = r[0] + 1
            else:
                beyond.append(r[0])
        stored = _nodes_completed(session, pos, limit) if limit > pos else {}
        by_index = {int(r[0]): r for r in rows}
        for p in range(pos, limit):
            row = by_index.get(p)
            if row is None:
                lh = missing(p, stored.get((0, p)))
            else:
                walk.leaves += 1
                walk.add(check_leaf_row(p, bytes(row[1]), bytes(row[2]), row[3], hasher))
                lh = hasher.leaf_hash(bytes(row[2]))
            if not walk.broken and lh is not None:
                completed = walk.rng.append(lh)
                walk.nodes += len(completed)
                walk.add(check_nodes(completed, stored))
            if pending is not None and pending.size == p + 1:
                settle(p + 1)
        gap = f"stored after a gap beyond the head size {head_size}"
        walk.add(Finding("leaf_beyond_head", f"leaf {i}: {gap}", leaf_index=i) for i in beyond)
        pos = limit
    for p in range(pos, min(head_size, pos + max_findings)):
        missing(p, None)
    pos = max(pos, head_size)
    settle(pos, final=True)
    walk.add(check_head(head_size, head_root, pos, walk.root()))
    walk.add(_extra_nodes(session, pos))
    checked = _check_checkpoint_rows(session, verifiers, origin, hasher, chunk, bad_roots, walk)
    return LedgerReport(
        pos, walk.root(), walk.leaves, walk.nodes, checked, tuple(walk.findings), walk.truncated
    )


def _extra_nodes(session: Session, size: int, limit: int = 100) -> list[Finding]:
    """Stored nodes that no leaf of ``[0, size)`` completes."""
    levels = size.bit_length() + 1
    conds = [and_(LedgerNode.level == lv, LedgerNode.index >= size >> lv) for lv in range(levels)]
    conds.append(LedgerNode.level >= levels)
    conds.append(LedgerNode.index < 0)
    stmt = (
        select(LedgerNode.level, LedgerNode.index)
        .where(or_(*conds))
        .order_by(LedgerNode.level, LedgerNode.index)
        .limit(limit)
    )
    out = []
    for lv, ix in session.execute(stmt):
        first = ix << lv if ix >= 0 else None
        out.append(
            Finding(
                "node_extra", f"node (level {lv}, index {ix}): stored, no leaf completes it", first, (lv, ix)
            )
        )
    return out


def _check_checkpoint_rows(
    session: Session,
    verifiers: Sequence[NoteVerifier],
    origin: str | None,
    hasher: Hasher,
    chunk: int,
    bad_roots: set[int],
    walk: _Walk,
) -> int:
    prev: CheckpointFacts | None = None
    count = 0
    for row in _checkpoints(session, False, chunk):
        count += 1
        cur = CheckpointFacts(row.id, row.size, bytes(row.root_hash))
        walk.add(
            check_checkpoint_note(row.origin, cur, row.note, verifiers, expected_origin=origin, hasher=hasher)
        )
        if prev is not None:
            walk.add(check_checkpoint_order(prev, cur, bad_roots))
        # A rolled-back row is not the reference for the next one: compare with the largest so far.
        if prev is None or cur.size >= prev.size:
            prev = cur
    return count


def verify_ledger(session: Session, verifiers: Sequence[NoteVerifier], **options: Any) -> LedgerReport:
    """:func:`check_ledger` that raises when anything was found.

    Raises:
        LedgerTampered: at least one finding (the message names the first and the count).
        StorageError: the database failed.
    """
    report = check_ledger(session, verifiers, **options)
    if not report.ok:
        first = report.findings[0] if report.findings else None
        what = f"{first.code}: {first.message}" if first else "nothing was checked"
        raise LedgerTampered(f"ledger verify: {len(report.findings)} finding(s); first {what}")
    return report
