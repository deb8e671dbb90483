"""Rotating the ledger's Ed25519 checkpoint key without ever losing a key (issue 3, item 3).

A rotation (:func:`rotate_signing_key`) is one catalog transaction plus file steps ordered so a
crash at any point leaves a usable key and a recoverable state:

1. generate the new key and write it, fsync'd, beside the old one as ``<stem>.key.<new id>.new``
   and ``<stem>.pub.<new id>.new`` (the live files are untouched);
2. in one transaction: append a ``key.rotated`` leaf (both verifier key strings, the time, and the
   old key's signature over the new key string, :func:`integrity.ledger.events_api.key_rotated`)
   and sign a checkpoint covering it with the OLD key (plus any co-signers), then commit;
3. switch files: hard-link the old ``.key``/``.pub`` to ``<stem>.key.<old id>.retired`` /
   ``<stem>.pub.<old id>.retired``, then ``os.replace`` the staged files over the live names.

A crash before the commit leaves staged files that the ledger never mentions: they are deleted.
A crash after it leaves staged files the latest ``key.rotated`` leaf names: the switch is finished.
:func:`finish_rotation` does either, idempotently; :func:`rotate_signing_key` runs it first.
Retired ``.pub`` files stay forever: :func:`load_known_verifiers` reads them so checkpoints signed
before a rotation still verify. SM2 co-signer keys are not rotated here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive.catalog.models import LedgerLeaf
from integrity.keys import KeyFileMismatch, key_paths, key_stem, load_signer
from integrity.ledger.events_api import key_rotated
from integrity.ledger.store import LedgerStore
from integrity.signed_note import Ed25519Signer, NoteSigner, NoteVerifier
from integrity.sm2 import parse_verifier_key
from standards.errors import EdossierError, StorageError

RETIRED = ".retired"
STAGED = ".new"


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: both verifier keys, the leaf, the old-key checkpoint, the retired files."""

    old_key: str
    new_key: str
    leaf_index: int
    checkpoint: str
    retired_key_file: Path
    retired_pub_file: Path


def retired_paths(directory: Path, name: str, key_id: bytes) -> tuple[Path, Path]:
    """``(<stem>.key.<id>.retired, <stem>.pub.<id>.retired)`` for the key ``name`` with ``key_id``."""
    stem = key_stem(name)
    return (
        directory / f"{stem}.key.{key_id.hex()}{RETIRED}",
        directory / f"{stem}.pub.{key_id.hex()}{RETIRED}",
    )


def staged_paths(directory: Path, name: str, key_id: bytes) -> tuple[Path, Path]:
    """``(<stem>.key.<id>.new, <stem>.pub.<id>.new)``: a new key written but not yet in place."""
    stem = key_stem(name)
    return directory / f"{stem}.key.{key_id.hex()}{STAGED}", directory / f"{stem}.pub.{key_id.hex()}{STAGED}"


# ---------------------------------------------------------------- file steps
def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durable(path: Path, text: str, mode: int) -> None:
    """Create ``path`` (never overwriting) with ``mode``, write ``text`` and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, mode)


def _keep_as(source: Path, target: Path) -> None:
    """Give ``source`` a second name ``target`` (a hard link; a copy where links fail).

    Raises:
        KeyFileMismatch: ``target`` exists with other content.
    """
    if target.exists():
        if target.read_bytes() != source.read_bytes():
            raise KeyFileMismatch(
                f"retired key file {target} exists with different content", path=str(target)
            )
        return
    try:
        os.link(source, target)
    except OSError:
        _write_durable(target, source.read_text(encoding="utf-8").strip(), source.stat().st_mode & 0o777)


def _switch(directory: Path, name: str, new: Ed25519Signer) -> tuple[Path, Path]:
    """Retire the live key (if it is not ``new`` already) and move the staged files into place."""
    key_path, pub_path = key_paths(directory, name)
    staged_key, staged_pub = staged_paths(directory, name, new.key_id)
    current = load_signer(directory, name)
    retired_key, retired_pub = retired_paths(directory, name, current.key_id)
    if current.key_id != new.key_id:
        _keep_as(key_path, retired_key)
        if pub_path.exists():
            _keep_as(pub_path, retired_pub)
        else:
            _write_durable(retired_pub, current.verifier().to_key_string(), 0o644)
        _fsync_dir(directory)
        os.replace(staged_key, key_path)
    else:
        staged_key.unlink(missing_ok=True)
    if staged_pub.exists():
        os.replace(staged_pub, pub_path)
    _fsync_dir(directory)
    return retired_key, retired_pub


def _committed_new_keys(session: Session) -> set[str]:
    """The ``new_key`` strings of the ``key.rotated`` leaves in the ledger."""
    try:
        rows = session.scalars(select(LedgerLeaf.data).where(LedgerLeaf.kind == "key.rotated")).all()
    except SQLAlchemyError as exc:
        raise StorageError(
            f"key rotation: database error reading key.rotated leaves ({type(exc).__name__})"
        ) from exc
    found: set[str] = set()
    for data in rows:
        value = json.loads(bytes(data)).get("new_key")
        if isinstance(value, str):
            found.add(value)
    return found


def finish_rotation(session: Session, directory: Path, name: str) -> list[str]:
    """Complete or discard rotations a crash interrupted; return what was done (for people).

    Raises:
        KeyFileMismatch, InsecureKeyFile, MalformedKey, KeyIdMismatch: a key file is damaged.
        StorageError: the database or a file cannot be read.
    """
    stem = key_stem(name)
    staged = sorted(directory.glob(f"{stem}.key.*{STAGED}"))
    if not staged:
        return []
    committed = _committed_new_keys(session)
    done: list[str] = []
    for path in staged:
        new = Ed25519Signer.from_key_string(path.read_text(encoding="utf-8").strip())
        if new.verifier().to_key_string() in committed:
            _switch(directory, name, new)
            done.append(f"finished rotation to key {new.key_id.hex()}")
        else:
            for leftover in staged_paths(directory, name, new.key_id):
                leftover.unlink(missing_ok=True)
            done.append(f"discarded uncommitted key {new.key_id.hex()}")
    _fsync_dir(directory)
    return done


# ---------------------------------------------------------------- the service
def rotate_signing_key(
    sessions: sessionmaker[Session],
    directory: Path,
    name: str,
    *,
    origin: str,
    now: dt.datetime,
    actor: str,
    cosigners: Sequence[NoteSigner] = (),
    reason: str | None = None,
    ledger: LedgerStore | None = None,
) -> Rotation:
    """Replace the Ed25519 key ``name`` in ``directory``; owns (and commits) one transaction.

    Raises:
        KeyFileMissingError, InsecureKeyFile, KeyFileMismatch, MalformedKey, KeyIdMismatch: the
            live key cannot be loaded.
        InconsistentCheckpoint, LedgerHeadMismatch, LedgerNodeMissing: the ledger refuses to sign
            (nothing is committed, the staged key is deleted, the old key stays live).
        StorageError, StorageUnavailable: the database failed (the staged key is kept until the
            ledger can say whether the rotation committed).
    """
    store = ledger or LedgerStore()
    with sessions() as session:
        finish_rotation(session, directory, name)
    old = load_signer(directory, name)
    new = Ed25519Signer.generate(name)
    old_vkey, new_vkey = old.verifier().to_key_string(), new.verifier().to_key_string()
    staged_key, staged_pub = staged_paths(directory, name, new.key_id)
    _write_durable(staged_key, new.to_key_string(), 0o600)
    _write_durable(staged_pub, new_vkey, 0o644)
    _fsync_dir(directory)
    try:
        with sessions() as session, session.begin():
            leaf = key_rotated(
                session,
                old_key=old_vkey,
                new_key=new_vkey,
                now=now,
                actor=actor,
                old_key_signature=old.sign(new_vkey.encode("utf-8")),
                reason=reason,
                ledger=store,
            )
            note = store.sign_checkpoint(session, [old, *cosigners], origin, now)
    except BaseException:
        # Did the commit land? Only the ledger knows (a lost reply may hide a commit): ask it, and keep
        # the staged key if it cannot answer (the next rotation or finish_rotation decides).
        with contextlib.suppress(EdossierError, SQLAlchemyError), sessions() as session:
            finish_rotation(session, directory, name)
        raise
    retired_key, retired_pub = _switch(directory, name, new)
    return Rotation(old_vkey, new_vkey, leaf.index, note, retired_key, retired_pub)


def load_known_verifiers(directory: Path) -> list[NoteVerifier]:
    """Every verifier key in ``directory``: live ``*.pub`` and retired ``*.pub.<id>.retired`` files.

    Raises:
        MalformedKey, UnsupportedKeyAlgorithm, KeyIdMismatch: a file holds an invalid key string.
        StorageError: a file cannot be read.
    """
    found: dict[tuple[str, bytes], NoteVerifier] = {}
    paths = sorted([*directory.glob("*.pub"), *directory.glob(f"*.pub.*{RETIRED}")])
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StorageError(f"key file {path} cannot be read: {exc.strerror}", path=str(path)) from None
        verifier = parse_verifier_key(text)
        found.setdefault((verifier.name, verifier.key_id), verifier)
    return list(found.values())
