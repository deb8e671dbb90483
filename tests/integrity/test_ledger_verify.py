"""Whole-ledger verification against real, tampered catalog rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from archive.catalog.models import Checkpoint as CheckpointRow
from archive.catalog.models import LedgerHead, LedgerLeaf, LedgerNode
from integrity.canonical import canonical_json
from integrity.checkpoint import format_checkpoint
from integrity.events import event
from integrity.ledger.store import LedgerStore
from integrity.ledger.verify import (
    CheckpointFacts,
    LedgerTampered,
    check_checkpoint_order,
    check_ledger,
    verify_ledger,
)
from integrity.merkle.hashes import SHA256
from integrity.signed_note import Ed25519Signer, sign_note

NOW = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
ED = Ed25519Signer("court.example/ledger", bytes(range(32)))
ORIGIN = "court.example/ledger"
CHECKPOINT_SIZES = (2, 5, 8, 13)  # checkpoint ids 1..4 in a fresh database


def ev(i: int) -> dict[str, object]:
    return event("dossier.accessed", archive_id=f"A{i}", actor="archivist", seq=i)


@pytest.fixture(params=[3, 2048], ids=["chunk3", "chunk2048"])
def chunk(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def ledger(db_session: Session) -> Session:
    """13 leaves with checkpoints signed at sizes 2, 5, 8 and 13."""
    store = LedgerStore()
    for i in range(CHECKPOINT_SIZES[-1]):
        store.append(db_session, ev(i), NOW)
        if i + 1 in CHECKPOINT_SIZES:
            store.sign_checkpoint(db_session, ED, ORIGIN, NOW)
    db_session.flush()
    return db_session


def checkpoint_ids(session: Session) -> list[int]:
    return list(session.scalars(select(CheckpointRow.id).order_by(CheckpointRow.id)))


def run(
    session: Session, chunk: int = 2048
) -> list[tuple[str, int | None, tuple[int, int] | None, int | None]]:
    session.expire_all()
    report = check_ledger(session, [ED.verifier()], origin=ORIGIN, chunk=chunk)
    assert report.ok == (not report.findings)
    return [(f.code, f.leaf_index, f.node, f.checkpoint_id) for f in report.findings]


def codes(findings: list[tuple[str, int | None, tuple[int, int] | None, int | None]]) -> set[str]:
    return {f[0] for f in findings}


def test_untouched_ledger_passes_every_check(ledger, chunk):
    report = check_ledger(ledger, [ED.verifier()], origin=ORIGIN, chunk=chunk)
    assert report.ok and report.findings == ()
    assert (report.size, report.leaves_checked, report.checkpoints_checked) == (13, 13, 4)
    assert report.nodes_checked == 13 + 6 + 3 + 1  # every stored node compared once
    assert report.root == LedgerStore().head(ledger).root
    verify_ledger(ledger, [ED.verifier()])


def test_empty_ledger_passes(db_session):
    report = check_ledger(db_session, [ED.verifier()])
    assert report.ok and report.size == 0 and report.root == SHA256.empty_root()


def test_edited_leaf_data_is_found_at_its_index_and_later_checkpoints_fail(ledger, chunk):
    forged = canonical_json(event("dossier.accessed", archive_id="FORGED", actor="archivist", seq=6))
    ledger.execute(update(LedgerLeaf).where(LedgerLeaf.leaf_index == 6).values(data=forged))
    found = run(ledger, chunk)
    assert found[0] == ("leaf_hash_mismatch", 6, None, None)
    ids = checkpoint_ids(ledger)
    bad = {f[3] for f in found if f[0] == "checkpoint_root_mismatch"}
    assert bad == {ids[2], ids[3]}  # sizes 8 and 13 cover leaf 6; sizes 2 and 5 do not
    assert ("head_root_mismatch", None, None, None) in found


def test_edited_leaf_with_matching_leaf_hash_is_found_by_its_node(ledger, chunk):
    forged = canonical_json(event("dossier.accessed", archive_id="FORGED", actor="archivist", seq=6))
    ledger.execute(
        update(LedgerLeaf)
        .where(LedgerLeaf.leaf_index == 6)
        .values(data=forged, leaf_hash=SHA256.leaf_hash(forged))
    )
    found = run(ledger, chunk)
    assert found[0] == ("node_mismatch", 6, (0, 6), None)
    assert "leaf_hash_mismatch" not in codes(found)


def test_deleted_leaf_row_is_reported_at_its_index(ledger, chunk):
    ledger.execute(delete(LedgerLeaf).where(LedgerLeaf.leaf_index == 4))
    assert run(ledger, chunk) == [("leaf_missing", 4, None, None)]  # its stored node keeps the tree going


def test_deleted_newest_leaf_row_leaves_the_last_checkpoint_unverifiable(ledger, chunk):
    ledger.execute(delete(LedgerLeaf).where(LedgerLeaf.leaf_index == 12))
    ledger.execute(delete(LedgerNode).where(LedgerNode.level == 0, LedgerNode.index == 12))
    found = run(ledger, chunk)
    assert found[0] == ("leaf_missing", 12, None, None)
    assert ("checkpoint_beyond_tree", None, None, checkpoint_ids(ledger)[3]) in found


def test_swapped_leaves_are_reported_at_both_positions(ledger, chunk):
    rows = {
        r.leaf_index: (r.data, r.leaf_hash)
        for r in ledger.execute(select(LedgerLeaf).where(LedgerLeaf.leaf_index.in_([2, 9]))).scalars()
    }
    for index, other in ((2, 9), (9, 2)):
        data, lh = rows[other]
        ledger.execute(
            update(LedgerLeaf).where(LedgerLeaf.leaf_index == index).values(data=data, leaf_hash=lh)
        )
    found = run(ledger, chunk)
    mismatched_leaves = [f[2] for f in found if f[0] == "node_mismatch" and f[2] is not None and f[2][0] == 0]
    assert mismatched_leaves == [(0, 2), (0, 9)]
    assert found[0] == ("node_mismatch", 2, (0, 2), None)


def test_edited_node_is_reported_with_its_coordinates(ledger, chunk):
    ledger.execute(
        update(LedgerNode).where(LedgerNode.level == 2, LedgerNode.index == 1).values(hash=bytes(32))
    )
    assert run(ledger, chunk) == [("node_mismatch", 4, (2, 1), None)]


def test_extra_node_row_is_reported(ledger):
    ledger.execute(insert(LedgerNode).values(level=0, index=40, hash=bytes(32)))
    assert run(ledger) == [("node_extra", 40, (0, 40), None)]


def test_edited_head_root_is_reported(ledger):
    ledger.execute(update(LedgerHead).values(root_hash=bytes(32)))
    assert run(ledger) == [("head_root_mismatch", None, None, None)]


def test_rolled_back_checkpoint_is_reported_with_its_id(ledger, chunk):
    ids = checkpoint_ids(ledger)
    old = ledger.execute(select(CheckpointRow).where(CheckpointRow.id == ids[0])).scalar_one()
    values = {c: getattr(old, c) for c in ("origin", "size", "root_hash", "note", "key_id", "created_at")}
    ledger.execute(delete(CheckpointRow).where(CheckpointRow.id == ids[3]))
    ledger.execute(insert(CheckpointRow).values(**values))  # a genuine, older signed checkpoint
    new_id = checkpoint_ids(ledger)[-1]
    assert run(ledger, chunk) == [("checkpoint_rolled_back", None, None, new_id)]


def test_forked_checkpoint_with_valid_signature_is_reported(ledger):
    other_root = SHA256.leaf_hash(b"another history")
    note = sign_note(format_checkpoint(ORIGIN, 13, other_root), ED)  # the key signed two trees of size 13
    ledger.execute(
        insert(CheckpointRow).values(
            origin=ORIGIN, size=13, root_hash=other_root, note=note, key_id=ED.key_id.hex(), created_at=NOW
        )
    )
    fork_id = checkpoint_ids(ledger)[-1]
    assert run(ledger) == [
        ("checkpoint_root_mismatch", None, None, fork_id),
        ("checkpoint_fork", None, None, fork_id),
    ]


def test_checkpoint_by_unknown_key_or_edited_row_is_reported(ledger):
    ids = checkpoint_ids(ledger)
    stranger = Ed25519Signer(ORIGIN, bytes([9]) * 32)
    head = LedgerStore().head(ledger)
    note = sign_note(format_checkpoint(ORIGIN, head.size, head.root), stranger)
    ledger.execute(update(CheckpointRow).where(CheckpointRow.id == ids[3]).values(note=note))
    ledger.execute(update(CheckpointRow).where(CheckpointRow.id == ids[1]).values(origin="elsewhere"))
    found = run(ledger)
    assert [(f[0], f[3]) for f in found] == [
        ("checkpoint_row_mismatch", ids[1]),
        ("checkpoint_signature", ids[3]),
    ]


def test_verify_ledger_raises_with_the_first_finding(ledger):
    ledger.execute(delete(LedgerLeaf).where(LedgerLeaf.leaf_index == 4))
    ledger.expire_all()
    with pytest.raises(LedgerTampered, match=r"1 finding\(s\); first leaf_missing: leaf 4"):
        verify_ledger(ledger, [ED.verifier()])


def test_order_check_accepts_growth_and_flags_shrink_and_fork():
    a, b = CheckpointFacts(1, 5, b"a" * 32), CheckpointFacts(2, 8, b"b" * 32)
    assert check_checkpoint_order(a, b, set()) == []
    assert [f.code for f in check_checkpoint_order(b, a, set())] == ["checkpoint_rolled_back"]
    assert [f.code for f in check_checkpoint_order(a, CheckpointFacts(3, 5, b"c" * 32), set())] == [
        "checkpoint_fork"
    ]
    assert [f.code for f in check_checkpoint_order(a, b, {2})] == ["checkpoint_inconsistent"]
