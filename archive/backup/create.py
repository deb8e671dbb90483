"""Write one backup (``edossier backup``): catalog dump, objects, public keys, inventory, then ``backup.json``.

Order, so that nothing half-written is ever counted as done:

1. the catalog is dumped in ONE snapshot transaction (PostgreSQL REPEATABLE READ; SQLite's transaction)
   to a staging file, hashed while written; the same snapshot says which objects the catalog expects,
   the SHA-256 it records for blobs and manifests, and each object's required retain-until date;
2. every archive object of the main store (WORM probe canaries excepted) is copied to the backup store
   under its own key — streamed into a staging file and hashed, compared with the catalog's digest, then
   put with that digest (the backup store verifies it again; fs publishes atomically, S3 sends
   ``x-amz-checksum-sha256``). Incremental: an object already in the backup store with the size and
   digest the previous backup verified is not read again; one present without such a record is compared
   by digest (never overwritten: backup stores are write-once too). An S3 backup bucket with Object Lock
   gets the same retain-until the main store needs (DESIGN.md "Object keys");
3. the catalog dump, the public key files (:func:`archive.backup.layout.is_public_key_file`) and
   ``inventory.json`` go under ``backups/<id>/``; ``backup.json`` is written last.

An object whose bytes do not match the catalog, a catalogued object missing from the main store, or a
different object already under a key in the backup store is not hidden: it goes to ``problems`` in
``backup.json`` (the CLI exits 1). The staging folder (under ``settings.staging_dir``) is always removed.
A finished backup is logged as a ``backup.created`` row of ``events`` (DA/T 70 §5.4: operations on
preserved records are recorded), which the next backup then carries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, column, select, table
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.backup.catalog_dump import DumpSummary, HashingWriter, dump_catalog
from archive.backup.errors import BackupCorrupt
from archive.backup.layout import (
    CATALOG,
    INVENTORY,
    KEYS,
    MANIFEST,
    BackupManifest,
    InventoryEntry,
    PartDigest,
    inventory_bytes,
    is_archive_object,
    is_public_key_file,
    is_public_key_name,
    new_backup_id,
    parse_inventory,
    part_key,
    plan_object,
)
from archive.backup.store import complete_backup_ids, fetch_part, fetch_to_file, read_manifest
from archive.catalog import db
from archive.catalog.models import Blob, Dossier, Event
from archive.reconcile import expected_objects
from archive.settings import Settings
from archive.stores import ObjectInfo, ObjectNotFound, ObjectStore
from integrity.hashing import CHUNK, digests_equal
from standards.errors import StorageError, StorageUnavailable, VerificationFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogSnapshot:
    """What the catalog said at the dump: digests and required retain-until per key."""

    digests: Mapping[str, str]  # blob store_key / manifest_key → sha256
    retain: Mapping[str, dt.datetime | None]  # every catalogued key → required retain-until


@dataclass
class _Run:
    backup_id: str
    scratch: Path
    entries: list[InventoryEntry] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    copied: int = 0
    counter: int = 0

    def problem(self, code: str, key: str | None, message: str, **extra: Any) -> None:
        self.problems.append({"code": code, "key": key, "message": message, **extra})

    def scratch_file(self) -> Path:
        self.counter += 1
        return self.scratch / f"obj-{self.counter}"


@dataclass(frozen=True)
class _Dumped:
    summary: DumpSummary
    part: PartDigest
    schema: str
    snapshot: CatalogSnapshot


def _dump(engine: Engine, settings: Settings, out: Path) -> _Dumped:
    """Dump the catalog and read the snapshot facts in one read transaction."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    try:
        with engine.connect().execution_options(**options) as conn, conn.begin():
            version = table(db.VERSION_TABLE, column("version_num"))
            schema = str(conn.execute(select(version.c.version_num)).scalar_one())
            with out.open("wb") as raw:
                writer = HashingWriter(raw)
                summary = dump_catalog(conn, writer, schema)
            session = Session(bind=conn)
            retain = {k: e.required_until for k, e in expected_objects(session, settings.retention).items()}
            digests = {k: v for k, v in session.execute(select(Blob.store_key, Blob.sha256))}
            digests.update(
                (k, v) for k, v in session.execute(select(Dossier.manifest_key, Dossier.manifest_sha256))
            )
            session.close()
    except OperationalError as exc:
        raise StorageUnavailable(
            f"backup: catalog database unavailable ({type(exc.orig).__name__})"
        ) from None
    except SQLAlchemyError as exc:
        raise StorageError(f"backup: reading the catalog failed ({type(exc).__name__})") from None
    return _Dumped(summary, PartDigest(writer.size, writer.sha256), schema, CatalogSnapshot(digests, retain))


def _previous_inventory(backup: ObjectStore, scratch: Path) -> dict[str, InventoryEntry]:
    """The inventory of the newest complete backup, or nothing if there is none or it is unreadable."""
    ids = complete_backup_ids(backup)
    if not ids:
        return {}
    try:
        manifest = read_manifest(backup, ids[-1])
        path = fetch_part(
            backup, ids[-1], INVENTORY, manifest.parts[INVENTORY], scratch / "previous-inventory"
        )
        return parse_inventory(path.read_bytes(), ids[-1])
    except (BackupCorrupt, KeyError) as error:
        log.warning("previous backup %s unusable for an incremental backup: %s", ids[-1], error)
        return {}


def _hash_object(store: ObjectStore, key: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with store.open(key) as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _retain(snapshot: CatalogSnapshot, key: str, now: dt.datetime) -> dt.datetime | None:
    until = snapshot.retain.get(key)
    return until if until is not None and until > now else None


def _copy(
    run: _Run, main: ObjectStore, backup: ObjectStore, key: str, want: str | None, until: dt.datetime | None
) -> None:
    path = run.scratch_file()
    try:
        size, sha256 = fetch_to_file(main, key, path)
        if want is not None and not digests_equal(want, sha256):
            run.problem(
                "source_digest_mismatch",
                key,
                f"main store object {key}: catalog sha256 {want}, found {sha256}; not backed up",
                expected_sha256=want,
                found_sha256=sha256,
            )
            return
        backup.adopt_file(key, path, sha256=sha256, size=size, retain_until=until)
    except ObjectNotFound:
        run.problem("object_vanished", key, f"main store object {key}: listed, then not found")
        return
    except VerificationFailed as error:  # a concurrent writer put something else under the key
        run.problem(error.code, key, error.message)
        return
    finally:
        path.unlink(missing_ok=True)
    run.copied += 1
    run.entries.append(InventoryEntry(key, size, sha256))


def _verify_present(
    run: _Run, main: ObjectStore, backup: ObjectStore, info: ObjectInfo, present_size: int, want: str | None
) -> None:
    found = backup.stat(info.key).sha256 if present_size == info.size else None
    if found is None and present_size == info.size:
        found = _hash_object(backup, info.key)[1]
    if want is None:
        want = _hash_object(main, info.key)[1]
    if present_size == info.size and found is not None and digests_equal(want, found):
        run.entries.append(InventoryEntry(info.key, info.size, want.lower()))
        return
    run.problem(
        "backup_conflict",
        info.key,
        f"backup store already holds a different object under {info.key}: expected size {info.size} "
        f"sha256 {want}, found size {present_size} sha256 {found or 'not read'}",
        expected_sha256=want,
        found_sha256=found,
    )


def _copy_objects(
    run: _Run, main: ObjectStore, backup: ObjectStore, snapshot: CatalogSnapshot, now: dt.datetime
) -> None:
    previous = _previous_inventory(backup, run.scratch)
    present = {i.key: i.size for i in backup.iter_objects() if is_archive_object(i.key)}
    seen: set[str] = set()
    for info in main.iter_objects():
        if not is_archive_object(info.key):
            continue
        seen.add(info.key)
        want = snapshot.digests.get(info.key)
        action = plan_object(
            size=info.size,
            present_size=present.get(info.key),
            previous=previous.get(info.key),
            expected_sha256=want,
        )
        if action == "copy":
            _copy(run, main, backup, info.key, want, _retain(snapshot, info.key, now))
        elif action == "skip":
            run.entries.append(InventoryEntry(info.key, info.size, previous[info.key].sha256))
        else:
            _verify_present(run, main, backup, info, present[info.key], want)
    for key in sorted(set(snapshot.retain) - seen):
        run.problem("object_missing", key, f"catalogued object {key} is not in the main store; not backed up")


def _public_keys(keys_dir: Path) -> dict[str, bytes]:
    if not keys_dir.is_dir():
        return {}
    out = {}
    for path in sorted(keys_dir.iterdir()):
        if not path.is_file() or not is_public_key_name(path.name):  # private key files are never read
            continue
        data = path.read_bytes()
        if is_public_key_file(path.name, data.decode("utf-8", "replace")):
            out[path.name] = data
    return out


def record_event(engine: Engine, kind: str, actor: str, now: dt.datetime, payload: Mapping[str, Any]) -> bool:
    """Add an ``events`` row (operational history, not a ledger leaf): backups and restores are logged.

    Returns False (and logs why) when the database refused: the backup itself is complete by then.
    """
    try:
        with db.session_factory(engine, write=True)() as session, session.begin():
            session.add(
                Event(
                    kind=kind,
                    archive_id=None,
                    actor=actor,
                    created_at=now,
                    payload_json=json.dumps(dict(payload), ensure_ascii=False, sort_keys=True),
                )
            )
    except SQLAlchemyError as exc:
        log.warning("event %s not recorded: %s", kind, type(exc).__name__)
        return False
    return True


def _put_bytes(backup: ObjectStore, backup_id: str, name: str, data: bytes) -> PartDigest:
    backup.put_bytes(part_key(backup_id, name), data, content_type="application/json")
    return PartDigest(len(data), hashlib.sha256(data).hexdigest())


def create_backup(
    settings: Settings,
    engine: Engine,
    main: ObjectStore,
    backup: ObjectStore,
    now: dt.datetime,
    *,
    tool_version: str,
    actor: str = "cli",
    token: str | None = None,
) -> BackupManifest:
    """Write one complete backup of the installation to ``backup`` and return its ``backup.json``.

    Raises:
        ValueError: ``now`` is naive.
        StorageUnavailable, StorageError: the catalog database, the main store or the backup store
            failed; no ``backup.json`` was written, so the attempt is never offered for restore.
        OSError: the staging folder or the key folder cannot be used.
    """
    backup_id = new_backup_id(now, token or secrets.token_hex(3))
    settings.staging_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(backup_id, Path(tempfile.mkdtemp(prefix="backup-", dir=settings.staging_dir)))
    try:
        dump_path = run.scratch / CATALOG
        dumped = _dump(engine, settings, dump_path)
        run.problems.extend(dict(p) for p in dumped.summary.problems)
        _copy_objects(run, main, backup, dumped.snapshot, now)
        parts = {CATALOG: dumped.part}
        backup.put_file(
            part_key(backup_id, CATALOG), dump_path, sha256=dumped.part.sha256, size=dumped.part.size
        )
        for name, data in _public_keys(settings.keys_dir).items():
            parts[KEYS + name] = _put_bytes(backup, backup_id, KEYS + name, data)
        parts[INVENTORY] = _put_bytes(backup, backup_id, INVENTORY, inventory_bytes(backup_id, run.entries))
        manifest = BackupManifest(
            backup_id=backup_id,
            created_at=now.astimezone(dt.UTC),
            schema=dumped.schema,
            ledger_origin=settings.ledger_origin,
            ledger=dumped.summary.ledger,
            rows=dumped.summary.rows,
            objects=len(run.entries),
            object_bytes=sum(e.size for e in run.entries),
            copied=run.copied,
            parts=parts,
            source_store=main.name,
            tool_version=tool_version,
            problems=tuple(run.problems),
        )
        backup.put_bytes(part_key(backup_id, MANIFEST), manifest.to_bytes(), content_type="application/json")
        summary = {
            "backup_id": backup_id,
            "store": backup.name,
            "objects": manifest.objects,
            "copied": manifest.copied,
            "ledger_size": manifest.ledger.size,
            "ledger_root": manifest.ledger.root,
            "problems": len(manifest.problems),
        }
        record_event(engine, "backup.created", actor, now, summary)
        return manifest
    finally:
        shutil.rmtree(run.scratch, ignore_errors=True)
