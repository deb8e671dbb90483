"""DA/T 70 BC-3-9 (备份数据可恢复性检测): restore a sample of the latest backup and compare digests.

:func:`backup_restore_fact` gathers the fact ``backup_restore`` that
:func:`integrity.checks.manual.check_backup_restorable` decides on. For one dossier of a full audit it

* finds the latest complete backup in the configured backup store;
* fetches its ``inventory.json`` and ``catalog.jsonl.gz``, checks both against ``backup.json`` and parses
  every row of the dump, recomputing the ledger root from the dumped leaves (once per backup and process:
  a backup never changes after ``backup.json`` is written, so the result is cached by backup id);
* restores ``settings.backup.sample_objects`` objects into a scratch folder under
  ``settings.staging_dir`` — the dossier's own objects first (manifest, 说明文件/目录文件, its blobs), the
  rest a seeded random spread over the backup — re-hashes them and compares each with the inventory and
  with the digest the live catalog records;

and returns plain values (the fact's keys are documented on the check). It never raises: no backup
configured, no backup yet, or an outage become a status the check answers ``not_run`` with; a backup part
that does not match ``backup.json`` is evidence (``corrupt``). The scratch folder is always removed.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive.backup.catalog_dump import check_dump
from archive.backup.errors import BackupCorrupt, BackupNotConfigured, BackupStoreIsMainStore
from archive.backup.layout import (
    CATALOG,
    INVENTORY,
    BackupManifest,
    InventoryEntry,
    choose_sample,
    parse_inventory,
)
from archive.backup.restore import restore_object
from archive.backup.store import (
    complete_backup_ids,
    describe_store,
    fetch_part,
    open_backup_store,
    read_manifest,
)
from archive.catalog.models import Blob, Document, Dossier
from archive.reconcile import aip_keys
from archive.settings import Settings
from archive.stores import ObjectStore
from archive.stores.keys import blob_key
from standards.errors import EdossierError, StorageError

log = logging.getLogger(__name__)
FACT = "backup_restore"
_CACHE_SIZE = 2


@dataclass(frozen=True)
class LoadedBackup:
    """A backup's manifest, inventory and the check of its catalog dump (immutable once complete)."""

    manifest: BackupManifest
    inventory: Mapping[str, InventoryEntry]
    catalog: Mapping[str, Any]


_cache: dict[tuple[str, str], LoadedBackup] = {}


def load_backup(store: ObjectStore, backup_id: str, scratch: Path) -> LoadedBackup:
    """Fetch and check a backup's manifest, inventory and catalog dump (cached per store and backup id).

    Raises:
        BackupNotFound: the backup has no ``backup.json``.
        BackupCorrupt: a part does not match ``backup.json`` or does not parse.
        StoreUnavailable, StoreError: the backup store failed.
        OSError: the scratch folder cannot be written.
    """
    cache_key = (describe_store(store), backup_id)
    if cache_key in _cache:
        return _cache[cache_key]
    manifest = read_manifest(store, backup_id)
    for name in (CATALOG, INVENTORY):
        if name not in manifest.parts:
            raise BackupCorrupt(f"backup {backup_id}: backup.json lists no {name}", path=name)
    inventory_file = fetch_part(store, backup_id, INVENTORY, manifest.parts[INVENTORY], scratch / "inventory")
    inventory = parse_inventory(inventory_file.read_bytes(), backup_id)
    dump_file = fetch_part(store, backup_id, CATALOG, manifest.parts[CATALOG], scratch / "catalog.jsonl.gz")
    with dump_file.open("rb") as stream:
        dump = check_dump(stream, f"backups/{backup_id}/{CATALOG}")
    catalog = {
        "rows": sum(dump.rows.values()),
        "rows_expected": sum(manifest.rows.values()),
        "tables_differing": sorted(
            t for t in set(dump.rows) | set(manifest.rows) if dump.rows.get(t, 0) != manifest.rows.get(t, 0)
        ),
        "ledger_size": dump.ledger_size,
        "ledger_root": dump.ledger_root,
        "ledger_expected_size": manifest.ledger.size,
        "ledger_expected_root": manifest.ledger.root,
        "problems": list(dump.problems),
    }
    loaded = LoadedBackup(manifest, inventory, catalog)
    while len(_cache) >= _CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    _cache[cache_key] = loaded
    return loaded


def dossier_keys(session: Session, dossier: Dossier) -> list[str]:
    """The object keys of one dossier: manifest, 说明文件/目录文件 beside it, and its blobs."""
    keys = aip_keys(dossier.manifest_key)
    for sha, meta_sha in session.execute(
        select(Document.sha256, Document.metadata_sha256).where(Document.archive_id == dossier.archive_id)
    ):
        keys += [blob_key(sha), blob_key(meta_sha)]
    return list(dict.fromkeys(keys))


def catalog_digests(session: Session, keys: list[str]) -> dict[str, str]:
    """What the live catalog records for these keys: blob SHA-256 by store key, manifest SHA-256."""
    blobs = select(Blob.store_key, Blob.sha256).where(Blob.store_key.in_(keys))
    found = {k: v for k, v in session.execute(blobs)}
    manifests = select(Dossier.manifest_key, Dossier.manifest_sha256).where(Dossier.manifest_key.in_(keys))
    found.update((k, v) for k, v in session.execute(manifests))
    return found


def _restore_sample(
    store: ObjectStore, loaded: LoadedBackup, sample: list[str], digests: Mapping[str, str], scratch: Path
) -> list[dict[str, Any]]:
    out = []
    for key in sample:
        entry = loaded.inventory[key]
        path, failure, found = restore_object(store, entry, scratch)  # kept in scratch until the end
        out.append(
            {
                "key": key,
                "size": entry.size,
                "expected_sha256": entry.sha256,
                "found_sha256": found,
                "catalog_sha256": digests.get(key),
                "code": failure.code if failure else None,
                "restored": path is not None,
            }
        )
    return out


def backup_restore_fact(
    settings: Settings, sessions: sessionmaker[Session], dossier: Dossier, now: dt.datetime
) -> dict[str, Any]:
    """The BC-3-9 fact for one dossier (see the module docstring); never raises."""
    if settings.backup.store is None:
        return {"status": "not_configured", "reason": "EDOSSIER_BACKUP__STORE 未设置"}
    try:
        store = open_backup_store(settings)
    except (BackupNotConfigured, BackupStoreIsMainStore) as error:
        return {"status": "not_configured", "reason": error.message}
    fact: dict[str, Any] = {
        "status": "checked",
        "store": describe_store(store),
        "checked_at": now.isoformat(),
    }
    settings.staging_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="backup-check-", dir=settings.staging_dir))
    try:
        ids = complete_backup_ids(store)
        if not ids:
            return {**fact, "status": "no_backup"}
        fact["backup_id"] = ids[-1]
        loaded = load_backup(store, ids[-1], scratch)
        fact["created_at"] = loaded.manifest.created_at.isoformat()
        fact["catalog"] = dict(loaded.catalog)
        with sessions() as session:
            own = dossier_keys(session, dossier)
            sample = choose_sample(
                sorted(loaded.inventory),
                own,
                settings.backup.sample_objects,
                f"{ids[-1]}/{dossier.archive_id}",
            )
            digests = catalog_digests(session, sample)
        fact["dossier_in_backup"] = all(k in loaded.inventory for k in own)
        fact["objects"] = _restore_sample(store, loaded, sample, digests, scratch)
        return fact
    except BackupCorrupt as error:
        return {**fact, "corrupt": {"code": error.code, "message": error.message, "path": error.path}}
    except (EdossierError, SQLAlchemyError, OSError) as error:  # an outage is never evidence
        message = error.message if isinstance(error, StorageError) else f"{type(error).__name__}: {error}"
        log.warning("BC-3-9 backup restore check not run: %s", message)
        return {**fact, "status": "unavailable", "reason": message}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
