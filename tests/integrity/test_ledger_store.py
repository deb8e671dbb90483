from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.catalog.models import Blob, LedgerHead, LedgerLeaf, LedgerNode
from archive.catalog.models import Checkpoint as CheckpointRow
from integrity.canonical import canonical_json
from integrity.checkpoint import parse_checkpoint
from integrity.events import event
from integrity.ledger import LedgerHeadMismatch, LedgerNodeMissing, LedgerStore, TreeSizeOutOfRange
from integrity.merkle.hashes import EMPTY_ROOT, SM3, leaf_hash
from integrity.signed_note import Ed25519Signer, open_note
from standards.errors import StorageUnavailable
from tests.integrity.reference_tree import mth

NOW = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
SIGNER = Ed25519Signer("court.example/ledger", bytes(range(32)))


def ev(i: int) -> dict[str, object]:
    return event("dossier.accessed", archive_id=f"A{i}", actor="archivist", seq=i)


def test_head_of_empty_ledger_is_empty_root(ledger_session):
    head = LedgerStore().head(ledger_session)
    assert (head.size, head.root) == (0, EMPTY_ROOT)


def test_root_at_equals_naive_mth_for_every_size_up_to_300(ledger_session):
    store = LedgerStore()
    data: list[bytes] = []
    for i in range(300):
        appended = store.append(ledger_session, ev(i), NOW)
        data.append(canonical_json(ev(i)))
        assert appended.index == i
        assert appended.size == i + 1
        assert appended.leaf_hash == leaf_hash(data[-1])
    assert store.head(ledger_session).root == mth(data)
    for k in range(301):
        assert store.root_at(ledger_session, k) == mth(data[:k]), k


def test_append_returns_new_root_and_stores_canonical_leaf(ledger_session):
    store = LedgerStore()
    first = store.append(ledger_session, ev(0), NOW)
    second = store.append(ledger_session, ev(1), NOW)
    assert first.root == leaf_hash(canonical_json(ev(0)))
    assert second.root == mth([canonical_json(ev(0)), canonical_json(ev(1))])
    leaf = store.leaf(ledger_session, 1)
    assert (leaf.data, leaf.kind, leaf.leaf_hash) == (
        canonical_json(ev(1)),
        "dossier.accessed",
        second.leaf_hash,
    )


def test_append_writes_each_completed_node_once(ledger_session):
    store = LedgerStore()
    for i in range(8):
        store.append(ledger_session, ev(i), NOW)
    coords = sorted((lv, ix) for lv, ix in ledger_session.execute(select(LedgerNode.level, LedgerNode.index)))
    assert coords == [(0, i) for i in range(8)] + [(1, i) for i in range(4)] + [(2, 0), (2, 1), (3, 0)]


def test_root_at_reads_nodes_not_leaves(ledger_session):
    store = LedgerStore()
    data = [canonical_json(ev(i)) for i in range(13)]
    for i in range(13):
        store.append(ledger_session, ev(i), NOW)
    ledger_session.execute(delete(LedgerLeaf))
    assert store.root_at(ledger_session, 13) == mth(data)
    assert store.append(ledger_session, ev(13), NOW).root == mth([*data, canonical_json(ev(13))])


def test_rolled_back_append_leaves_nothing(ledger_sessions):
    store = LedgerStore()
    with ledger_sessions.begin() as s:
        for i in range(5):
            store.append(s, ev(i), NOW)
        committed_root = store.head(s).root
    with ledger_sessions() as s:
        store.append(s, ev(5), NOW)
        store.append(s, ev(6), NOW)
        s.rollback()
    with ledger_sessions() as s:
        assert store.head(s).size == 5
        assert store.head(s).root == committed_root
        assert s.scalar(select(func.count()).select_from(LedgerLeaf)) == 5
        assert s.scalar(select(func.max(LedgerNode.index)).where(LedgerNode.level == 0)) == 4


def test_append_never_commits(ledger_sessions):
    store = LedgerStore()
    with ledger_sessions() as s:
        store.append(s, ev(0), NOW)
        # no commit: closing the session discards the work
    with ledger_sessions() as s:
        assert s.get(LedgerHead, 1) is None
        assert store.head(s).size == 0


def test_append_rejects_tampered_node(ledger_session):
    store = LedgerStore()
    for i in range(4):
        store.append(ledger_session, ev(i), NOW)
    ledger_session.execute(update(LedgerNode).where(LedgerNode.level == 2).values(hash=bytes(32)))
    with pytest.raises(LedgerHeadMismatch, match="size 4"):
        store.append(ledger_session, ev(4), NOW)


def test_root_at_reports_missing_node(ledger_session):
    store = LedgerStore()
    for i in range(3):
        store.append(ledger_session, ev(i), NOW)
    ledger_session.execute(delete(LedgerNode).where(LedgerNode.level == 0, LedgerNode.index == 2))
    with pytest.raises(LedgerNodeMissing, match="level 0, index 2"):
        store.root_at(ledger_session, 3)


@pytest.mark.parametrize("size", [-1, 3])
def test_root_at_rejects_size_outside_tree(ledger_session, size):
    store = LedgerStore()
    for i in range(2):
        store.append(ledger_session, ev(i), NOW)
    with pytest.raises(TreeSizeOutOfRange, match=f"found {size}"):
        store.root_at(ledger_session, size)


def test_leaf_rejects_index_beyond_tree(ledger_session):
    with pytest.raises(TreeSizeOutOfRange):
        LedgerStore().leaf(ledger_session, 0)


def test_append_rejects_unknown_event_type(ledger_session):
    with pytest.raises(ValueError, match=r"dossier\.deleted"):
        LedgerStore().append(ledger_session, {"type": "dossier.deleted", "v": 1}, NOW)


def test_append_rejects_float_in_event(ledger_session):
    with pytest.raises(TypeError):
        LedgerStore().append(ledger_session, {"type": "audit.completed", "v": 1, "rate": 0.5}, NOW)


def test_sign_checkpoint_stores_verifiable_note_of_current_head(ledger_session):
    store = LedgerStore()
    for i in range(7):
        store.append(ledger_session, ev(i), NOW)
    note = store.sign_checkpoint(ledger_session, SIGNER, "court.example/ledger", NOW)
    text, names = open_note(note, [SIGNER.verifier()])
    cp = parse_checkpoint(text)
    assert (cp.origin, cp.size, cp.root) == ("court.example/ledger", 7, store.root_at(ledger_session, 7))
    assert names == ("court.example/ledger",)
    latest = store.latest_checkpoint(ledger_session)
    assert latest is not None
    assert (latest.note, latest.size, latest.key_id) == (note, 7, SIGNER.key_id.hex())


def test_latest_checkpoint_is_the_newest(ledger_session):
    store = LedgerStore()
    assert store.latest_checkpoint(ledger_session) is None
    store.sign_checkpoint(ledger_session, SIGNER, "o", NOW)
    store.append(ledger_session, ev(0), NOW)
    store.sign_checkpoint(ledger_session, SIGNER, "o", NOW)
    latest = store.latest_checkpoint(ledger_session)
    assert latest is not None
    assert latest.size == 1
    assert ledger_session.scalar(select(func.count()).select_from(CheckpointRow)) == 2


def test_sign_checkpoint_of_empty_ledger_uses_empty_root(ledger_session):
    note = LedgerStore().sign_checkpoint(ledger_session, SIGNER, "o", NOW)
    cp = parse_checkpoint(open_note(note, [SIGNER.verifier()]).text)
    assert (cp.size, cp.root) == (0, EMPTY_ROOT)


def test_sm3_ledger_root_equals_naive_sm3_mth(ledger_session):
    store = LedgerStore(SM3)
    data = [canonical_json(ev(i)) for i in range(11)]
    for i in range(11):
        store.append(ledger_session, ev(i), NOW)
    assert store.head(ledger_session).root == mth(data, SM3)
    assert store.root_at(ledger_session, 6) == mth(data[:6], SM3)


def test_append_lets_callers_integrity_error_through(ledger_sessions):
    blob = {"sm3": "0" * 64, "size": 1, "store_key": "blobs/k", "created_at": NOW}
    with ledger_sessions.begin() as s:
        s.add(Blob(sha256="a" * 64, **blob))
    with ledger_sessions() as s:
        s.add(Blob(sha256="b" * 64, **blob))  # pending; flushed by the ledger's own queries
        with pytest.raises(IntegrityError):
            LedgerStore().append(s, ev(0), NOW)


def test_database_without_ledger_tables_is_reported_as_storage_unavailable():
    engine = create_engine("sqlite://")
    with Session(engine) as s, pytest.raises(StorageUnavailable, match="ledger head"):
        LedgerStore().head(s)


def test_node_reads_use_the_primary_key_on_sqlite_not_a_table_scan(tmp_path: Path) -> None:
    """Regression: a row-value ``(level, index) IN (VALUES …)`` made SQLite scan ledger_nodes
    (inclusion proofs at 1M leaves took 130 ms instead of < 1 ms)."""
    from archive.catalog.models import Base
    from integrity.ledger.store import _read_nodes_stmt

    engine = create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    Base.metadata.create_all(engine)
    params = {f"l{i}": i for i in range(3)} | {f"i{i}": i + 1 for i in range(3)}
    compiled = _read_nodes_stmt(3).params(params).compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled)).fetchall()
    details = " ".join(str(row[-1]) for row in plan)
    assert "SCAN" not in details.replace("SCAN CONSTANT", ""), details
    assert "SEARCH" in details
