"""Restore one backup into a new installation (``edossier restore``) and verify everything restored.

1. The backup must be complete (``backup.json``); its catalog dump, inventory and public key files are
   fetched and each checked against the size and SHA-256 ``backup.json`` records (:class:`BackupCorrupt`
   otherwise — nothing is written then).
2. The catalog goes into the target database, which must be EMPTY (:mod:`archive.backup.catalog_load`:
   restore never writes over an archive).
3. The public key files go to the target's key folder (never overwriting a different file). Private keys
   are not in backups: the operator puts them back from their own offline copy (docs/operations.md).
4. The RFC 9162 tree is recomputed from the restored ``ledger_leaves`` and its size and root compared
   with ``backup.json``; the whole ledger is verified as ``edossier ledger verify`` does it (nodes, head,
   every checkpoint signature with the restored public keys).
5. Every object of the inventory is streamed from the backup store into the target's staging folder,
   hashed, compared with the inventory and stored in the target store (fs at ``<data dir>/objects`` by
   default; an S3 target gets the retain-until the restored catalog requires); every object the
   restored catalog names must be in the inventory.
6. A ``backup.restored`` row is added to the restored catalog's ``events`` (after the counts were taken).

The report (:class:`RestoreReport`) lists every failure by key with expected and found digests;
``verified`` needs all of it to hold. Store and database outages raise (the CLI exits 3).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from archive.backup.catalog_dump import LedgerRecompute
from archive.backup.catalog_load import check_target_empty, load_catalog
from archive.backup.create import record_event
from archive.backup.errors import BackupCorrupt, TargetNotEmpty
from archive.backup.layout import (
    CATALOG,
    INVENTORY,
    KEYS,
    BackupManifest,
    InventoryEntry,
    parse_inventory,
    part_key,
)
from archive.backup.store import fetch_part, fetch_to_file, read_manifest, resolve_backup_id
from archive.catalog import db
from archive.catalog.models import LedgerLeaf
from archive.reconcile import expected_objects
from archive.settings import Settings
from archive.stores import ObjectNotFound, ObjectStore, open_store
from integrity.hashing import digests_equal
from integrity.ledger.rotation import load_known_verifiers
from integrity.ledger.verify import check_ledger
from standards.errors import StorageError, VerificationFailed

LEAF_CHUNK = 2048


@dataclass(frozen=True)
class Failure:
    """One thing that did not restore as the backup says it should."""

    code: str
    key: str | None
    message: str
    expected_sha256: str | None = None
    found_sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did and found; ``verified`` only when every part held."""

    backup_id: str
    created_at: dt.datetime
    target_database: str
    target_store: str
    rows: Mapping[str, int]
    rows_expected: Mapping[str, int]
    objects_expected: int
    objects_restored: int
    bytes_restored: int
    ledger_size: int
    ledger_root: str
    ledger_expected_size: int
    ledger_expected_root: str
    ledger_verify: Mapping[str, Any]
    keys_restored: tuple[str, ...]
    failures: tuple[Failure, ...] = field(default=())

    @property
    def ledger_matches(self) -> bool:
        return self.ledger_size == self.ledger_expected_size and digests_equal(
            self.ledger_expected_root, self.ledger_root
        )

    @property
    def verified(self) -> bool:
        return (
            not self.failures
            and self.ledger_matches
            and bool(self.ledger_verify.get("ok"))
            and dict(self.rows) == dict(self.rows_expected)
            and self.objects_restored == self.objects_expected
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "backup_id": self.backup_id,
            "backup_created_at": self.created_at.isoformat(),
            "target_database": self.target_database,
            "target_store": self.target_store,
            "rows": dict(self.rows),
            "rows_expected": dict(self.rows_expected),
            "objects_expected": self.objects_expected,
            "objects_restored": self.objects_restored,
            "bytes_restored": self.bytes_restored,
            "ledger": {
                "size": self.ledger_size,
                "root": self.ledger_root,
                "expected_size": self.ledger_expected_size,
                "expected_root": self.ledger_expected_root,
                "root_matches": self.ledger_matches,
                "verify": dict(self.ledger_verify),
            },
            "keys_restored": list(self.keys_restored),
            "private_keys": "not in backups: copy the .key files from your offline key backup into the key folder",
            "failures": [f.as_dict() for f in self.failures],
        }


def restored_ledger(engine: Engine) -> LedgerRecompute:
    """The RFC 9162 tree recomputed from the ``ledger_leaves`` rows of ``engine``'s database.

    Raises:
        StorageError: the database failed.
    """
    ledger = LedgerRecompute()
    stmt = select(LedgerLeaf.leaf_index, LedgerLeaf.data).order_by(LedgerLeaf.leaf_index)
    try:
        with engine.connect() as conn:
            for index, data in conn.execution_options(stream_results=True, yield_per=LEAF_CHUNK).execute(
                stmt
            ):
                ledger.feed(int(index), bytes(data))
    except SQLAlchemyError as exc:
        raise StorageError(f"restore: reading the restored ledger failed ({type(exc).__name__})") from None
    return ledger


def restore_object(
    source: ObjectStore, entry: InventoryEntry, scratch: Path
) -> tuple[Path | None, Failure | None, str | None]:
    """Stream one inventory object from the backup into ``scratch`` and check it: (file, failure, found sha256).

    The file is returned only when size and SHA-256 match the inventory; the caller removes it.

    Raises:
        StoreUnavailable, StoreError: the backup store failed (an outage, not a finding).
        OSError: the scratch folder cannot be written.
    """
    path = scratch / f"obj-{secrets.token_hex(8)}"
    try:
        size, sha256 = fetch_to_file(source, entry.key, path)
    except ObjectNotFound:
        path.unlink(missing_ok=True)
        msg = f"{entry.key}: in the inventory, not in the backup store"
        return None, Failure("object_missing", entry.key, msg, entry.sha256), None
    if size != entry.size or not digests_equal(entry.sha256, sha256):
        path.unlink(missing_ok=True)
        msg = (
            f"{entry.key}: inventory says size {entry.size} sha256 {entry.sha256}, "
            f"backup copy has size {size} sha256 {sha256}"
        )
        return None, Failure("object_digest_mismatch", entry.key, msg, entry.sha256, sha256), sha256
    return path, None, sha256


def _fetch_keys(
    source: ObjectStore, manifest: BackupManifest, scratch: Path, keys_dir: Path
) -> dict[str, bytes]:
    """The backup's public key files (checked against ``backup.json``), refusing a key folder that differs.

    Raises:
        BackupCorrupt: a part does not match ``backup.json`` or is not a plain file name.
        TargetNotEmpty: the target key folder holds a different file of the same name.
    """
    files: dict[str, bytes] = {}
    for name, digest in sorted(manifest.parts.items()):
        if not name.startswith(KEYS):
            continue
        filename = name[len(KEYS) :]
        if "/" in filename or filename.startswith(".") or not filename:
            raise BackupCorrupt(f"backup.json part {name!r}: not a plain key file name", path=name)
        data = fetch_part(
            source, manifest.backup_id, name, digest, scratch / f"key-{len(files)}"
        ).read_bytes()
        target = keys_dir / filename
        if target.exists() and target.read_bytes() != data:
            raise TargetNotEmpty(
                f"key file {target}: exists with other content than {part_key(manifest.backup_id, name)}; "
                "restore into a new data directory",
                path=str(target),
            )
        files[filename] = data
    return files


def _write_keys(keys_dir: Path, files: Mapping[str, bytes]) -> list[str]:
    """Write the public key files (0644) into the 0700 key folder; identical existing files are kept."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for filename, data in files.items():
        target = keys_dir / filename
        if target.exists():
            continue  # same content (checked by _fetch_keys)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    return sorted(files)


def _restore_objects(
    source: ObjectStore,
    target: ObjectStore,
    inventory: Mapping[str, InventoryEntry],
    retain: Mapping[str, dt.datetime | None],
    scratch: Path,
    now: dt.datetime,
) -> tuple[int, int, list[Failure]]:
    restored, total, failures = 0, 0, []
    for key in sorted(inventory):
        entry = inventory[key]
        path, failure, _ = restore_object(source, entry, scratch)
        if failure is not None or path is None:
            failures.append(failure or Failure("object_missing", key, f"{key}: not restored"))
            continue
        until = retain.get(key)
        try:
            target.adopt_file(
                key,
                path,
                sha256=entry.sha256,
                size=entry.size,
                retain_until=until if until is not None and until > now else None,
            )
        except VerificationFailed as error:  # a different object already under the key in the target
            failures.append(Failure(error.code, key, error.message, entry.sha256))
            continue
        finally:
            path.unlink(missing_ok=True)
        restored += 1
        total += entry.size
    for key in sorted(set(retain) - set(inventory)):
        failures.append(
            Failure("object_not_in_backup", key, f"{key}: catalogued, not in the backup inventory")
        )
    return restored, total, failures


def restore_backup(
    source: ObjectStore, requested: str, target: Settings, now: dt.datetime, *, actor: str = "cli"
) -> RestoreReport:
    """Restore backup ``requested`` (an id or ``latest``) from ``source`` into the installation ``target``.

    Raises:
        BackupNotFound: no complete backup has that id.
        TargetNotEmpty: the target database holds rows, or its key folder a different key file.
        BackupSchemaUnknown: the dump is from a newer edossier.
        BackupCorrupt: a part does not match ``backup.json`` or does not parse (nothing was written).
        StorageUnavailable, StorageError: a store or a database failed.
        OSError: the target data directory cannot be written.
    """
    backup_id = resolve_backup_id(source, requested)
    manifest = read_manifest(source, backup_id)
    engine = db.make_engine(target.effective_database_url)
    target.staging_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="restore-", dir=target.staging_dir))
    try:
        check_target_empty(engine)  # refuse before fetching anything large
        for name in (CATALOG, INVENTORY):
            if name not in manifest.parts:
                raise BackupCorrupt(f"backup {backup_id}: backup.json lists no {name}", path=name)
        catalog = fetch_part(
            source, backup_id, CATALOG, manifest.parts[CATALOG], scratch / "catalog.jsonl.gz"
        )
        inventory_path = fetch_part(
            source, backup_id, INVENTORY, manifest.parts[INVENTORY], scratch / "inventory"
        )
        inventory = parse_inventory(inventory_path.read_bytes(), backup_id)
        key_files = _fetch_keys(source, manifest, scratch, target.keys_dir)
        with catalog.open("rb") as stream:
            rows = load_catalog(engine, stream, part_key(backup_id, CATALOG))
        keys = _write_keys(target.keys_dir, key_files)
        ledger = restored_ledger(engine)
        sessions = db.session_factory(engine)
        with sessions() as session:
            report = check_ledger(
                session, load_known_verifiers(target.keys_dir), origin=manifest.ledger_origin
            )
            retain = {k: e.required_until for k, e in expected_objects(session, target.retention).items()}
        store = open_store(target, prepare=True)
        restored, total, failures = _restore_objects(source, store, inventory, retain, scratch, now)
        failures[:0] = [Failure("ledger_leaf_gap", None, p["message"]) for p in ledger.problems]
        result = RestoreReport(
            backup_id=backup_id,
            created_at=manifest.created_at,
            target_database=db.describe(engine),
            target_store=f"{store.name}:{getattr(store, 'root', '') or target.s3.bucket}",
            rows=rows,
            rows_expected=manifest.rows,
            objects_expected=len(inventory),
            objects_restored=restored,
            bytes_restored=total,
            ledger_size=ledger.size,
            ledger_root=ledger.root_hex(),
            ledger_expected_size=manifest.ledger.size,
            ledger_expected_root=manifest.ledger.root,
            ledger_verify=report.as_dict(),
            keys_restored=tuple(keys),
            failures=tuple(failures),
        )
        summary = {"backup_id": backup_id, "verified": result.verified, "failures": len(result.failures)}
        record_event(engine, "backup.restored", actor, now, summary)  # the restored archive's own history
        return result
    finally:
        engine.dispose()
        shutil.rmtree(scratch, ignore_errors=True)
