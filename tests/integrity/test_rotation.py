"""Key rotation: a key.rotated leaf signed off by the old key, retired files kept, crashes recoverable."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from archive.catalog.models import LedgerHead, LedgerLeaf, LedgerNode
from integrity.checkpoint import parse_checkpoint
from integrity.events import event
from integrity.keys import ensure_key, key_paths, load_signer
from integrity.ledger import rotation as rotation_module
from integrity.ledger.rotation import (
    finish_rotation,
    load_known_verifiers,
    retired_paths,
    rotate_signing_key,
    staged_paths,
)
from integrity.ledger.store import InconsistentCheckpoint, LedgerStore
from integrity.ledger.verify import check_ledger
from integrity.signed_note import Ed25519Signer, UnknownKey, open_note
from integrity.sm2 import Sm2Signer, ensure_sm2_key

NOW = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
NAME = "court.example/ledger"
ORIGIN = "court.example/ledger"


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    ensure_key(tmp_path / "keys", NAME)
    return tmp_path / "keys"


@pytest.fixture
def sessions(ledger_sessions: sessionmaker[Session], keys: Path) -> sessionmaker[Session]:
    """A ledger of three leaves and one checkpoint signed by the current key."""
    store = LedgerStore()
    with ledger_sessions() as session, session.begin():
        for i in range(3):
            store.append(session, event("dossier.accessed", archive_id=f"A{i}", actor="a", seq=i), NOW)
        store.sign_checkpoint(session, load_signer(keys, NAME), ORIGIN, NOW)
    return ledger_sessions


def rotate(sessions: sessionmaker[Session], keys: Path, **options: object) -> rotation_module.Rotation:
    return rotate_signing_key(sessions, keys, NAME, origin=ORIGIN, now=NOW, actor="admin", **options)  # type: ignore[arg-type]


def test_rotation_appends_key_rotated_leaf_and_old_key_signs_a_checkpoint_covering_it(sessions, keys):
    old = load_signer(keys, NAME)
    result = rotate(sessions, keys, reason="annual rotation")
    new = load_signer(keys, NAME)
    assert new.key_id != old.key_id
    assert (result.old_key, result.new_key) == (
        old.verifier().to_key_string(),
        new.verifier().to_key_string(),
    )
    with sessions() as session:
        leaf = LedgerStore().leaf(session, result.leaf_index)
    data = json.loads(leaf.data)
    assert (leaf.kind, data["old_key"], data["new_key"], data["at"]) == (
        "key.rotated",
        result.old_key,
        result.new_key,
        "2024-06-01T09:00:00Z",
    )
    assert old.verifier().verify(result.new_key.encode(), base64.b64decode(data["old_key_signature"]))
    body = parse_checkpoint(open_note(result.checkpoint, [old.verifier()]).text)
    assert body.size == result.leaf_index + 1 == 4
    with pytest.raises(UnknownKey):
        open_note(result.checkpoint, [new.verifier()])


def test_old_key_is_kept_as_retired_files_and_new_pub_is_live(sessions, keys):
    old = load_signer(keys, NAME)
    result = rotate(sessions, keys)
    key_path, pub_path = key_paths(keys, NAME)
    assert (result.retired_key_file, result.retired_pub_file) == retired_paths(keys, NAME, old.key_id)
    assert result.retired_key_file.name == f"court.example_ledger.key.{old.key_id.hex()}.retired"
    assert Ed25519Signer.from_key_string(result.retired_key_file.read_text().strip()).key_id == old.key_id
    assert oct(result.retired_key_file.stat().st_mode & 0o777) == oct(0o600)
    assert result.retired_pub_file.read_text().strip() == result.old_key
    assert pub_path.read_text().strip() == result.new_key
    assert key_path.read_text().strip() == load_signer(keys, NAME).to_key_string()
    assert not list(keys.glob("*.new"))


def test_ledger_verifies_across_the_rotation_with_known_verifiers(sessions, keys):
    rotate(sessions, keys)
    store = LedgerStore()
    with sessions() as session, session.begin():
        store.append(session, event("dossier.accessed", archive_id="B", actor="a", seq=9), NOW)
        store.sign_checkpoint(session, load_signer(keys, NAME), ORIGIN, NOW)
    verifiers = load_known_verifiers(keys)
    assert len(verifiers) == 2
    with sessions() as session:
        report = check_ledger(session, verifiers, origin=ORIGIN)
    assert report.ok and report.checkpoints_checked == 3


def test_refused_checkpoint_commits_nothing_and_keeps_the_old_key(sessions, keys):
    old = load_signer(keys, NAME)
    with sessions() as session, session.begin():  # rewrite history under the signed checkpoint
        for table in (LedgerLeaf, LedgerNode, LedgerHead):
            session.execute(delete(table))
        LedgerStore().append(session, event("dossier.accessed", archive_id="X", actor="a", seq=0), NOW)
    with pytest.raises(InconsistentCheckpoint):
        rotate(sessions, keys)
    assert load_signer(keys, NAME).key_id == old.key_id
    assert not list(keys.glob("*.new")) and not list(keys.glob("*.retired"))
    with sessions() as session:
        assert session.scalars(select(LedgerLeaf).where(LedgerLeaf.kind == "key.rotated")).first() is None


def test_crash_after_commit_is_finished_by_finish_rotation(sessions, keys, monkeypatch):
    old = load_signer(keys, NAME)

    def power_cut(*_: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(rotation_module, "_switch", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        rotate(sessions, keys)
    monkeypatch.undo()
    assert load_signer(keys, NAME).key_id == old.key_id  # still live, new key only staged
    assert len(list(keys.glob("*.key.*.new"))) == 1
    with sessions() as session:
        done = finish_rotation(session, keys, NAME)
    new = load_signer(keys, NAME)
    assert done == [f"finished rotation to key {new.key_id.hex()}"]
    assert new.key_id != old.key_id
    assert retired_paths(keys, NAME, old.key_id)[0].exists()
    assert not list(keys.glob("*.new"))


def test_staged_key_never_committed_is_discarded(sessions, keys):
    old = load_signer(keys, NAME)
    orphan = Ed25519Signer.generate(NAME)
    staged_key, staged_pub = staged_paths(keys, NAME, orphan.key_id)
    staged_key.write_text(orphan.to_key_string() + "\n")
    staged_pub.write_text(orphan.verifier().to_key_string() + "\n")
    with sessions() as session:
        assert finish_rotation(session, keys, NAME) == [f"discarded uncommitted key {orphan.key_id.hex()}"]
    assert not staged_key.exists() and not staged_pub.exists()
    assert load_signer(keys, NAME).key_id == old.key_id


def test_sm2_cosigner_signs_the_rotation_checkpoint_and_its_pub_is_a_known_verifier(sessions, keys):
    sm2 = ensure_sm2_key(keys, "court.example/ledger-sm2")
    result = rotate(sessions, keys, cosigners=[sm2])
    assert open_note(result.checkpoint, [sm2.verifier()]).verified == (sm2.name,)
    known = {(v.name, v.key_id) for v in load_known_verifiers(keys)}
    assert (sm2.name, sm2.key_id) in known and isinstance(sm2, Sm2Signer)
