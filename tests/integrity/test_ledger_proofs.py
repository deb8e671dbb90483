"""Proofs from the ledger tables: RFC 9162 answers from O(log n) stored nodes, never from leaves."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from archive.catalog.models import Dossier, LedgerLeaf, LedgerNode
from integrity.canonical import canonical_json
from integrity.events import event
from integrity.ledger import proofs as ledger_proofs
from integrity.ledger.proofs import (
    ArchiveNotInLedger,
    consistency_proof,
    inclusion_proof,
    inclusion_proof_for_archive,
)
from integrity.ledger.store import LedgerNodeMissing, LedgerStore, TreeSizeOutOfRange
from integrity.merkle.hashes import SHA256, SM3
from integrity.merkle.proofs import ProofError, verify_consistency, verify_inclusion
from integrity.signed_note import Ed25519Signer
from tests.integrity.reference_tree import mth, path, proof

NOW = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
SIGNER = Ed25519Signer("court.example/ledger", bytes(range(32)))


def ev(i: int) -> dict[str, object]:
    return event("dossier.accessed", archive_id=f"A{i}", actor="archivist", seq=i)


def fill(session: Session, count: int, store: LedgerStore | None = None) -> list[bytes]:
    store = store or LedgerStore()
    for i in range(count):
        store.append(session, ev(i), NOW)
    return [canonical_json(ev(i)) for i in range(count)]


def add_dossier(session: Session, archive_id: str, leaf_index: int) -> None:
    session.add(
        Dossier(
            archive_id=archive_id,
            case_number=f"（2024）京0105民初{leaf_index + 1}号",
            court_name="北京市朝阳区人民法院",
            case_type="民初",
            year=2024,
            closing_date=dt.date(2024, 5, 31),
            department="民一庭",
            judge="张三",
            fonds_code="J001",
            retention="永久",
            document_count=0,
            total_bytes=0,
            manifest_key=f"aips/{archive_id}/1/manifest.json",
            manifest_sha256="0" * 64,
            package_digest="0" * 64,
            archived_at=NOW,
            leaf_index=leaf_index,
        )
    )
    session.flush()


def test_every_inclusion_and_consistency_proof_up_to_size_21_matches_the_naive_tree(ledger_session):
    data = fill(ledger_session, 21)
    for size in range(1, 22):
        for index in range(size):
            assert inclusion_proof(ledger_session, index, size) == path(index, data[:size]), (index, size)
        for size1 in range(size + 1):
            expected = proof(size1, data[:size]) if 0 < size1 < size else []
            assert consistency_proof(ledger_session, size1, size) == expected, (size1, size)


def test_proofs_verify_against_the_stored_roots(ledger_session):
    data = fill(ledger_session, 37)
    store = LedgerStore()
    root = store.head(ledger_session).root
    assert root == mth(data)
    verify_inclusion(12, 37, SHA256.leaf_hash(data[12]), inclusion_proof(ledger_session, 12, 37), root)
    verify_consistency(
        19, 37, store.root_at(ledger_session, 19), root, consistency_proof(ledger_session, 19, 37)
    )


def test_proofs_read_nodes_not_leaves_in_one_query_of_log_n_nodes(ledger_session, monkeypatch):
    data = fill(ledger_session, 100)
    ledger_session.execute(delete(LedgerLeaf))
    calls: list[int] = []
    original = LedgerStore.read_nodes

    def counting(self: LedgerStore, session: Session, coords):  # type: ignore[no-untyped-def]
        calls.append(len(coords))
        return original(self, session, coords)

    monkeypatch.setattr(LedgerStore, "read_nodes", counting)
    assert inclusion_proof(ledger_session, 37, 99) == path(37, data[:99])
    assert consistency_proof(ledger_session, 37, 99) == proof(37, data[:99])
    assert len(calls) == 2
    assert max(calls) <= 2 * (99).bit_length()


def test_sm3_ledger_gives_sm3_proofs(ledger_session):
    data = fill(ledger_session, 6, LedgerStore(SM3))
    assert inclusion_proof(ledger_session, 4, 6, SM3) == path(4, data, SM3)
    assert consistency_proof(ledger_session, 3, 6, SM3) == proof(3, data, SM3)


def test_proof_beyond_the_tree_is_refused(ledger_session):
    fill(ledger_session, 5)
    with pytest.raises(TreeSizeOutOfRange):
        inclusion_proof(ledger_session, 2, 6)
    with pytest.raises(TreeSizeOutOfRange):
        inclusion_proof(ledger_session, 5, 5)
    with pytest.raises(TreeSizeOutOfRange):
        consistency_proof(ledger_session, 4, 6)
    with pytest.raises(TreeSizeOutOfRange):
        consistency_proof(ledger_session, 4, 3)


def test_missing_node_is_reported_not_recomputed(ledger_session):
    fill(ledger_session, 8)
    ledger_session.execute(delete(LedgerNode).where(LedgerNode.level == 1, LedgerNode.index == 1))
    with pytest.raises(LedgerNodeMissing, match=r"level 1, index 1"):
        inclusion_proof(ledger_session, 0, 8)


def test_archive_proof_uses_latest_checkpoint_that_covers_the_leaf(ledger_session):
    data = fill(ledger_session, 5)
    add_dossier(ledger_session, "ED-A", 3)
    store = LedgerStore()
    store.sign_checkpoint(ledger_session, SIGNER, "court.example/ledger", NOW)
    for i in range(5, 9):
        store.append(ledger_session, ev(i), NOW)

    index, size, leaf_hash, proof_hashes, root = inclusion_proof_for_archive(ledger_session, "ED-A")
    assert (index, size, root) == (3, 5, mth(data))
    assert leaf_hash == SHA256.leaf_hash(data[3])
    assert list(proof_hashes) == path(3, data)


def test_archive_proof_uses_the_head_when_no_checkpoint_covers_the_leaf(ledger_session):
    store = LedgerStore()
    fill(ledger_session, 3, store)
    store.sign_checkpoint(ledger_session, SIGNER, "court.example/ledger", NOW)
    for i in range(3, 7):
        store.append(ledger_session, ev(i), NOW)
    data = [canonical_json(ev(i)) for i in range(7)]
    add_dossier(ledger_session, "ED-B", 5)

    got = inclusion_proof_for_archive(ledger_session, "ED-B")
    assert (got.index, got.size, got.root) == (5, 7, mth(data))
    verify_inclusion(got.index, got.size, got.leaf_hash, got.proof, got.root)


def test_archive_proof_for_unknown_archive_id_is_refused(ledger_session):
    fill(ledger_session, 2)
    with pytest.raises(ArchiveNotInLedger, match="ED-NOPE"):
        inclusion_proof_for_archive(ledger_session, "ED-NOPE")


def test_archive_proof_from_a_tampered_node_is_refused_not_handed_out(ledger_session):
    fill(ledger_session, 8)
    add_dossier(ledger_session, "ED-C", 2)
    ledger_session.execute(
        update(LedgerNode).where(LedgerNode.level == 0, LedgerNode.index == 3).values(hash=b"\x00" * 32)
    )
    with pytest.raises(ProofError):
        inclusion_proof_for_archive(ledger_session, "ED-C")


def test_ledger_proofs_work_on_every_backend(db_session):
    data = fill(db_session, 11)
    add_dossier(db_session, "ED-D", 9)
    got = ledger_proofs.inclusion_proof_for_archive(db_session, "ED-D")
    assert (got.size, list(got.proof)) == (11, path(9, data))
    assert consistency_proof(db_session, 6, 11) == proof(6, data)
