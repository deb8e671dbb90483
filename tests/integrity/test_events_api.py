"""integrity.ledger.events_api: schema-checked events, appended with their events row, never committed."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from archive.catalog.models import Event, LedgerLeaf
from integrity.canonical import canonical_json
from integrity.events import EVENT_TYPES, dossier_archived
from integrity.ledger import LedgerStore
from integrity.ledger.events_api import (
    EventFieldInvalid,
    EventFieldMissing,
    MalformedKey,
    UnexpectedEventField,
    UnknownEventType,
    audit_completed,
    build_event,
    dossier_accessed,
    dossier_transferred,
    event_schemas,
    key_rotated,
    metadata_amended,
    record_event,
    validate_event,
)
from integrity.merkle.hashes import leaf_hash
from integrity.signed_note import Ed25519Signer
from tests.integrity.reference_tree import mth

NOW = dt.datetime(2024, 6, 1, 17, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DIGEST = "ab" * 32
OLD = Ed25519Signer("court.example/ledger", bytes(range(32)))
NEW = Ed25519Signer("court.example/ledger", bytes(range(1, 33)))


def test_schema_file_defines_exactly_the_ledger_event_types():
    assert set(event_schemas()) == EVENT_TYPES


def test_ingest_dossier_archived_event_follows_its_schema():
    ev = dossier_archived("A1", "(2024)京0105民初1号", DIGEST, "cd" * 32, NOW, 3, 1024)
    assert validate_event(ev).writer == "ingest"


def test_record_event_appends_leaf_and_event_row_in_callers_transaction(ledger_session):
    leaf = record_event(
        ledger_session,
        "dossier.accessed",
        {"access": "view", "purpose": "再审审查", "documents": [1, 3]},
        now=NOW,
        actor="clerk-7",
        archive_id="A1",
    )
    expected = {
        "type": "dossier.accessed",
        "v": 1,
        "actor": "clerk-7",
        "at": "2024-06-01T09:30:00Z",
        "archive_id": "A1",
        "access": "view",
        "purpose": "再审审查",
        "documents": [1, 3],
    }
    stored = ledger_session.scalars(select(LedgerLeaf)).one()
    assert stored.data == canonical_json(expected)
    assert leaf.leaf_hash == leaf_hash(canonical_json(expected)) == stored.leaf_hash
    row = ledger_session.scalars(select(Event)).one()
    assert (row.kind, row.archive_id, row.actor, row.leaf_index) == ("dossier.accessed", "A1", "clerk-7", 0)
    assert json.loads(row.payload_json) == expected


def test_record_event_never_commits(ledger_sessions):
    with ledger_sessions() as session:
        audit_completed(
            session,
            audit_id="R1",
            scope="full",
            checked=10,
            failed=0,
            result="pass",
            now=NOW,
            actor="auditor",
        )
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Event)) == 0
        assert session.scalar(select(func.count()).select_from(LedgerLeaf)) == 0


def test_typed_helpers_append_consecutive_leaves_with_matching_root(ledger_session):
    store = LedgerStore()
    dossier_accessed(ledger_session, "A1", access="download", purpose="律师阅卷", now=NOW, actor="u1")
    metadata_amended(
        ledger_session,
        "A1",
        fields_amended=["题名"],
        reason="错别字更正",
        manifest_sha256=DIGEST,
        previous_manifest_sha256="cd" * 32,
        now=NOW,
        actor="archivist",
    )
    audit_completed(
        ledger_session,
        audit_id="R1",
        scope="sample",
        checked=40,
        failed=1,
        result="fail",
        report_sha256=DIGEST,
        now=NOW,
        actor="auditor",
    )
    dossier_transferred(
        ledger_session, "A1", recipient="北京市档案馆", package_sha256=DIGEST, now=NOW, actor="archivist"
    )
    last = key_rotated(
        ledger_session,
        old_key=OLD.verifier().to_key_string(),
        new_key=NEW.verifier().to_key_string(),
        old_key_signature=OLD.sign(NEW.verifier().to_key_string().encode()),
        reason="scheduled",
        now=NOW,
        actor="admin",
    )
    leaves = ledger_session.scalars(select(LedgerLeaf).order_by(LedgerLeaf.leaf_index)).all()
    assert [lf.kind for lf in leaves] == [
        "dossier.accessed",
        "metadata.amended",
        "audit.completed",
        "dossier.transferred",
        "key.rotated",
    ]
    assert last.index == 4
    assert last.root == mth([lf.data for lf in leaves]) == store.head(ledger_session).root
    rotated = json.loads(leaves[-1].data)
    assert "archive_id" not in rotated
    sig = base64.b64decode(rotated["old_key_signature"])
    assert OLD.verifier().verify(NEW.verifier().to_key_string().encode(), sig)
    events = ledger_session.scalars(select(Event).order_by(Event.id)).all()
    assert [e.leaf_index for e in events] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("type_", "fields", "error"),
    [
        ("dossier.viewed", {}, UnknownEventType),
        ("dossier.archived", {"case_number": "x"}, UnknownEventType),  # only ingest writes it
        ("dossier.accessed", {"access": "view"}, EventFieldMissing),
        ("dossier.accessed", {"access": "steal", "purpose": "p"}, EventFieldInvalid),
        ("dossier.accessed", {"access": "view", "purpose": ""}, EventFieldInvalid),
        ("dossier.accessed", {"access": "view", "purpose": "p", "documents": [1, -2]}, EventFieldInvalid),
        ("dossier.accessed", {"access": "view", "purpose": "p", "documents": [True]}, EventFieldInvalid),
        ("dossier.accessed", {"access": "view", "purpose": "p", "note": "x"}, UnexpectedEventField),
        ("dossier.accessed", {"access": "view", "purpose": "p", "actor": "me"}, EventFieldInvalid),
        ("dossier.transferred", {"recipient": "r", "package_sha256": "AB" * 32}, EventFieldInvalid),
        (
            "audit.completed",
            {"audit_id": "R", "scope": "full", "checked": 1.0, "failed": 0, "result": "pass"},
            EventFieldInvalid,
        ),
    ],
)
def test_record_event_rejects_events_that_break_their_schema_and_writes_nothing(
    ledger_session, type_, fields, error
):
    with pytest.raises(error):
        record_event(ledger_session, type_, fields, now=NOW, actor="u1", archive_id="A1")
    assert ledger_session.scalar(select(func.count()).select_from(LedgerLeaf)) == 0
    assert ledger_session.scalar(select(func.count()).select_from(Event)) == 0


def test_dossier_accessed_requires_archive_id(ledger_session):
    with pytest.raises(EventFieldMissing, match="archive_id"):
        record_event(
            ledger_session, "dossier.accessed", {"access": "view", "purpose": "p"}, now=NOW, actor="u"
        )


def test_key_rotated_rejects_malformed_or_identical_keys(ledger_session):
    key = OLD.verifier().to_key_string()
    with pytest.raises(MalformedKey):
        key_rotated(ledger_session, old_key="not a key", new_key=key, now=NOW, actor="admin")
    with pytest.raises(EventFieldInvalid, match="same"):
        key_rotated(ledger_session, old_key=key, new_key=key, now=NOW, actor="admin")


def test_build_event_refuses_naive_time():
    with pytest.raises(ValueError, match="naive"):
        build_event("audit.completed", {}, now=dt.datetime(2024, 1, 1), actor="a")


def test_validate_event_rejects_wrong_version():
    ev = build_event(
        "dossier.transferred",
        {"recipient": "r", "package_sha256": DIGEST},
        now=NOW,
        actor="a",
        archive_id="A",
    )
    validate_event(ev)
    with pytest.raises(EventFieldInvalid, match="'v'"):
        validate_event({**ev, "v": 2})


def test_record_event_on_migrated_catalog(db_session):
    leaf = dossier_accessed(db_session, "A9", access="print", purpose="归档核对", now=NOW, actor="u9")
    row = db_session.scalars(select(Event).where(Event.leaf_index == leaf.index)).one()
    assert row.kind == "dossier.accessed"
    assert LedgerStore().leaf(db_session, leaf.index).leaf_hash == leaf.leaf_hash
