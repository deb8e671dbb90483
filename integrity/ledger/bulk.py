"""Bulk appends to the ledger: many leaves in one statement batch (benchmarks, imports, migrations).

:func:`append_many` writes exactly the rows :meth:`LedgerStore.append` would write for the same
leaves, one after the other — a ``ledger_leaves`` row per leaf, a level-0 ``ledger_nodes`` row per
leaf and a parent node each time a perfect subtree completes (RFC 9162 §2.1.1), then one
``ledger_head`` update — but with Core ``executemany`` inserts in chunks instead of one ORM flush per
leaf. It takes the head lock (FOR UPDATE) and checks the stored compact range against the head root
before writing, as ``append`` does. It never commits; the caller owns the transaction.

Each datum must already be a leaf as the ledger stores them: the RFC 8785 canonical JSON of an
event with a known ``type`` (checked, since verifiers must be able to reproduce the bytes).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from archive.catalog.models import Base, LedgerLeaf, LedgerNode
from integrity.canonical import MAX_SAFE_INTEGER, canonical_json
from integrity.events import EVENT_TYPES
from integrity.ledger.store import LedgerHeadMismatch, LedgerStore, TreeHead, _db_errors
from integrity.merkle.compact import CompactRange, perfect_subtrees
from integrity.merkle.hashes import SHA256, Hasher

CHUNK = 10_000  # rows per executemany: bounded memory at 1M leaves, few round trips


class _NotCanonical(Exception):
    """Internal: a number canonical JSON would refuse (float, or an integer outside the safe range)."""


def _refuse_float(text: str) -> Any:
    raise _NotCanonical(text)


def _safe_int(text: str) -> int:
    value = int(text)
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise _NotCanonical(text)
    return value


_FOUR_BYTE_UTF8 = re.compile(rb"[\xf0-\xf4]")


def is_canonical(data: bytes, value: object) -> bool:
    """Whether ``data`` (which decodes to ``value``) is the RFC 8785 encoding of ``value`` (pure).

    Fast path: within edossier's JSON model (str, safe int, bool, null, list, object; no floats)
    RFC 8785 and ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` write
    the same bytes — the same escapes (RFC 8785 §3.2.2.2), integers in decimal — except for the
    key order of keys holding characters beyond U+FFFF (UTF-16 code-unit order, §3.2.3, differs
    from code-point order there). Data with such characters goes through the full encoder.
    """
    if _FOUR_BYTE_UTF8.search(data):
        try:
            return canonical_json(value) == data
        except (TypeError, ValueError):
            return False
    try:
        encoded = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return encoded.encode("utf-8") == data
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape: not valid I-JSON
        return False


def leaf_kind(data: bytes, index: int, *, check_canonical: bool = True) -> str:
    """The event ``type`` of a stored-form leaf (pure).

    Raises:
        ValueError: ``data`` is not a JSON object with a known ``type``, or (``check_canonical``)
            is not its own RFC 8785 encoding (floats and unsafe integers included).
    """
    try:
        value = json.loads(data, parse_float=_refuse_float, parse_int=_safe_int)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"leaf {index}: expected canonical JSON, found undecodable bytes") from None
    except _NotCanonical as exc:
        raise ValueError(f"leaf {index}: number {str(exc)[:40]} is not allowed in canonical JSON") from None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in EVENT_TYPES:
        raise ValueError(f"leaf {index}: event type expected one of {sorted(EVENT_TYPES)}, found {kind!r}")
    if check_canonical and not is_canonical(data, value):
        raise ValueError(f"leaf {index}: bytes are not the RFC 8785 canonical form of the event")
    return str(kind)


def append_many(
    session: Session,
    datas: Sequence[bytes],
    now: dt.datetime,
    *,
    hasher: Hasher = SHA256,
    check_canonical: bool = True,
) -> TreeHead:
    """Append ``datas`` as the next leaves, in order; flush, never commit. Returns the new head.

    Raises:
        ValueError: a datum is not a canonical JSON event (nothing is written).
        LedgerNodeMissing: a node of the current compact range is not stored.
        LedgerHeadMismatch: the stored nodes do not give the stored head root.
        sqlalchemy.exc.IntegrityError: a row already exists (e.g. a leaf index taken concurrently).
        StorageError, StorageUnavailable: the database failed otherwise.
    """
    kinds = [leaf_kind(d, i, check_canonical=check_canonical) for i, d in enumerate(datas)]
    store = LedgerStore(hasher)
    with _db_errors("bulk append"):
        head = store._lock_head(session, now)  # the same lock and head row as LedgerStore.append
        size = head.size
        rng = CompactRange.from_nodes(size, store.read_nodes(session, perfect_subtrees(size)), hasher)
        if not hmac.compare_digest(rng.root(), bytes(head.root_hash)):
            raise LedgerHeadMismatch(
                f"ledger root at size {size}: head says {bytes(head.root_hash).hex()},"
                f" stored nodes give {rng.root().hex()}"
            )
        if not datas:
            return TreeHead(size, bytes(head.root_hash))
        session.flush()  # the caller's pending rows go first, as they would with append
        conn = session.connection()
        leaf_table = Base.metadata.tables[LedgerLeaf.__tablename__]
        node_table = Base.metadata.tables[LedgerNode.__tablename__]
        for start in range(0, len(datas), CHUNK):
            leaves: list[dict[str, Any]] = []
            nodes: list[dict[str, Any]] = []
            for offset, data in enumerate(datas[start : start + CHUNK]):
                i = start + offset
                lh = hasher.leaf_hash(data)
                leaves.append(
                    {
                        "leaf_index": size + i,
                        "leaf_hash": lh,
                        "data": data,
                        "kind": kinds[i],
                        "created_at": now,
                    }
                )
                nodes.extend({"level": n.level, "index": n.index, "hash": n.hash} for n in rng.append(lh))
            conn.execute(insert(leaf_table), leaves)
            conn.execute(insert(node_table), nodes)
        root = rng.root()
        head.size = rng.size
        head.root_hash = root
        head.updated_at = now
        session.flush()
    return TreeHead(rng.size, root)
