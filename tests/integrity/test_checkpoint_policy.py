"""Checkpoint policy: the log proves consistency before it signs, and a note may carry several signers."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from archive.catalog.models import Checkpoint as CheckpointRow
from archive.catalog.models import LedgerHead, LedgerLeaf, LedgerNode
from integrity.checkpoint import parse_checkpoint
from integrity.events import event
from integrity.ledger.proofs import consistency_proof
from integrity.ledger.store import InconsistentCheckpoint, LedgerStore
from integrity.merkle.proofs import verify_consistency
from integrity.signed_note import Ed25519Signer, open_note
from integrity.sm2 import Sm2Signer
from standards.errors import VerificationFailed

NOW = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
ED = Ed25519Signer("court.example/ledger", bytes(range(32)))
SM2 = Sm2Signer("court.example/ledger-sm2", (987654321).to_bytes(32, "big"))
ORIGIN = "court.example/ledger"


def ev(i: int, tag: str = "A") -> dict[str, object]:
    return event("dossier.accessed", archive_id=f"{tag}{i}", actor="archivist", seq=i)


def append(session: Session, store: LedgerStore, start: int, stop: int, tag: str = "A") -> None:
    for i in range(start, stop):
        store.append(session, ev(i, tag), NOW)


def wipe_tree(session: Session) -> None:
    """What a rewrite of history does first: drop leaves, nodes and head (checkpoints stay)."""
    for table in (LedgerLeaf, LedgerNode, LedgerHead):
        session.execute(delete(table))
    session.expunge_all()


def checkpoint_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(CheckpointRow)) or 0)


def test_each_signed_checkpoint_is_consistent_with_the_one_before(ledger_session):
    store = LedgerStore()
    sizes = [0, 1, 2, 3, 7, 8, 9, 16, 17, 31]
    notes = []
    done = 0
    for size in sizes:
        append(ledger_session, store, done, size)
        done = size
        notes.append(
            parse_checkpoint(
                open_note(store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW), [ED.verifier()]).text
            )
        )
    for a, b in itertools.pairwise(notes):
        proof = consistency_proof(ledger_session, a.size, b.size)
        verify_consistency(a.size, b.size, a.root, b.root, proof)


def test_rewritten_history_is_refused_with_inconsistent_checkpoint(ledger_session):
    store = LedgerStore()
    append(ledger_session, store, 0, 3)
    store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW)
    wipe_tree(ledger_session)
    append(ledger_session, store, 0, 5, tag="FORGED")
    before = checkpoint_count(ledger_session)
    with pytest.raises(InconsistentCheckpoint, match=r"consistency 3 -> 5") as caught:
        store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW)
    assert isinstance(caught.value, VerificationFailed)
    assert caught.value.code == "ledger_checkpoint_inconsistent"
    assert checkpoint_count(ledger_session) == before


def test_tree_smaller_than_last_checkpoint_is_refused(ledger_session):
    store = LedgerStore()
    append(ledger_session, store, 0, 5)
    store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW)
    wipe_tree(ledger_session)
    append(ledger_session, store, 0, 3)  # the same first three events: a prefix, but shorter
    with pytest.raises(
        InconsistentCheckpoint, match=r"last signed checkpoint has 5 leaves, the tree now has 3"
    ):
        store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW)


def test_same_size_with_other_root_is_refused(ledger_session):
    store = LedgerStore()
    append(ledger_session, store, 0, 4)
    store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW)
    wipe_tree(ledger_session)
    append(ledger_session, store, 0, 4, tag="FORGED")
    with pytest.raises(InconsistentCheckpoint, match=r"consistency 4 -> 4"):
        store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW)


def test_checkpoint_row_edited_away_from_its_signed_note_is_refused(ledger_session):
    store = LedgerStore()
    append(ledger_session, store, 0, 2)
    store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW)
    ledger_session.execute(update(CheckpointRow).values(size=1))
    ledger_session.expunge_all()
    with pytest.raises(InconsistentCheckpoint, match=r"row says size 1 .* signed note says size 2"):
        store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW)


def test_extension_of_an_unchanged_tree_is_signed_after_many_appends(ledger_session):
    store = LedgerStore()
    append(ledger_session, store, 0, 5)
    store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW)
    append(ledger_session, store, 5, 70)
    note = store.sign_checkpoint(ledger_session, ED, ORIGIN, NOW)
    assert parse_checkpoint(open_note(note, [ED.verifier()]).text).size == 70


def test_note_carries_ed25519_and_sm2_signatures_and_row_keeps_first_key_id(ledger_session):
    store = LedgerStore()
    append(ledger_session, store, 0, 3)
    note = store.sign_checkpoint(ledger_session, [ED, SM2], ORIGIN, NOW)
    assert open_note(note, [ED.verifier()]).verified == (ED.name,)
    assert open_note(note, [SM2.verifier()]).verified == (SM2.name,)
    row = ledger_session.scalars(select(CheckpointRow)).one()
    assert (row.key_id, row.note) == (ED.key_id.hex(), note)


def test_sign_checkpoint_without_signers_is_a_caller_bug(ledger_session):
    with pytest.raises(ValueError, match="at least one signer"):
        LedgerStore().sign_checkpoint(ledger_session, [], ORIGIN, NOW)
