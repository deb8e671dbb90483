"""What a backup is, as values: its keys in the backup store, ``backup.json``, the inventory and the rules.

A backup is a set of objects in the backup store (DA/T 70 BC-3-9 restores from it)::

    backups/<backup id>/catalog.jsonl.gz   every row of every catalog table, ledger tables included
    backups/<backup id>/keys/<file>        public key files only (``*.pub``, retired ``*.pub.<id>.retired``,
                                           certificates); private keys are never part of a backup
    backups/<backup id>/inventory.json     every archive object the backup holds: key, size, sha256
    backups/<backup id>/backup.json        written last: id, time, schema, counts, ledger head, and the
                                           size and sha256 of every part above

plus the archive's objects themselves under their own keys (``blobs/…``, ``aips/…``), shared by every
backup and copied once (incremental). A backup without ``backup.json`` is incomplete and is never offered
for restore. Backup ids sort by time to the microsecond (``20250301T093000.000000Z-1a2b3c``), so the latest
is the greatest.

Everything here is pure: ids, keys, (de)serialising ``backup.json`` and the inventory, which files of
the key folder are public, what to do with an object already in the backup store, and which objects a
restorability check samples. Reading and writing stores is left to :mod:`archive.backup.create`,
:mod:`archive.backup.restore` and :mod:`archive.backup.sample_check`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from archive.backup.errors import BackupCorrupt
from archive.worm_probe import PROBE_PREFIX

FORMAT = "edossier-backup/1"
PREFIX = "backups/"
MANIFEST = "backup.json"
CATALOG = "catalog.jsonl.gz"
INVENTORY = "inventory.json"
KEYS = "keys/"
LEDGER_HASH = "sha256"  # RFC 9162 §2.1 with SHA-256, as integrity.ledger.store appends
_ID = re.compile(r"[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9a-f]{6,32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_RETIRED_PUB = re.compile(r".+\.pub\.[0-9a-f]+\.retired")
_PUBLIC_SUFFIXES = (".pub", ".crt", ".cer", ".cert.pem", ".crt.pem")


def new_backup_id(now: dt.datetime, token: str) -> str:
    """A backup id that sorts by time: ``YYYYMMDDTHHMMSS.ffffffZ-<token>`` (``token``: 6–32 lowercase hex).

    >>> new_backup_id(dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC), "1a2b3c")
    '20250301T093000.000000Z-1a2b3c'

    Raises:
        ValueError: ``now`` is naive or ``token`` is not 6–32 lowercase hex digits.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    backup_id = f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%S.%fZ}-{token}"
    if not _ID.fullmatch(backup_id):
        raise ValueError(f"token: expected 6-32 lowercase hex digits, found {token!r}")
    return backup_id


def is_backup_id(text: str) -> bool:
    """Whether ``text`` has the form of a backup id."""
    return bool(_ID.fullmatch(text))


def part_key(backup_id: str, name: str) -> str:
    """The key of a part of a backup: ``backups/<id>/<name>``.

    >>> part_key("20250301T093000.000000Z-1a2b3c", "backup.json")
    'backups/20250301T093000.000000Z-1a2b3c/backup.json'

    Raises:
        ValueError: ``backup_id`` is not a backup id.
    """
    if not is_backup_id(backup_id):
        raise ValueError(f"backup id: expected YYYYMMDDTHHMMSS.ffffffZ-<hex>, found {backup_id!r}")
    return f"{PREFIX}{backup_id}/{name}"


def complete_backups(keys: Iterable[str]) -> list[str]:
    """Ids of the backups whose ``backup.json`` is among ``keys`` (a listing of ``backups/``), oldest first.

    >>> done, cut = "20250301T093000.000000Z-aaaaaa", "20250302T000000.000000Z-b00000"
    >>> complete_backups([f"backups/{done}/backup.json", f"backups/{cut}/catalog.jsonl.gz"])
    ['20250301T093000.000000Z-aaaaaa']
    """
    found = set()
    for key in keys:
        parts = key.split("/")
        if len(parts) == 3 and parts[0] + "/" == PREFIX and parts[2] == MANIFEST and is_backup_id(parts[1]):
            found.add(parts[1])
    return sorted(found)


def incomplete_backups(keys: Iterable[str]) -> list[str]:
    """Ids of backups that have parts but no ``backup.json`` (interrupted; never restored), oldest first.

    >>> done, cut = "20250301T093000.000000Z-aaaaaa", "20250302T000000.000000Z-b00000"
    >>> incomplete_backups([f"backups/{done}/backup.json", f"backups/{cut}/catalog.jsonl.gz"])
    ['20250302T000000.000000Z-b00000']
    """
    keys = list(keys)
    seen = {k.split("/")[1] for k in keys if k.startswith(PREFIX) and k.count("/") >= 2}
    return sorted({i for i in seen if is_backup_id(i)} - set(complete_backups(keys)))


def is_archive_object(key: str) -> bool:
    """Whether a key of the main store is archive content a backup must hold (not a WORM probe canary)."""
    return not key.startswith(PREFIX) and not key.startswith(PROBE_PREFIX)


def is_public_key_name(name: str) -> bool:
    """Whether a key-folder file name is one a backup may hold (``*.pub``, retired ``*.pub.<id>.retired``,
    ``*.crt``, ``*.cer``, ``*.cert.pem``); private key names (``*.key``, ``*.key.<id>.retired``) never are.
    """
    named = name.endswith(_PUBLIC_SUFFIXES) or bool(_RETIRED_PUB.fullmatch(name))
    return named and ".key." not in name and not name.endswith(".key")


def is_public_key_file(name: str, text: str) -> bool:
    """Whether a file of the key folder may go into a backup: a public key or certificate, never a secret.

    Public by name (:func:`is_public_key_name`) and by content: a file holding a signed-note signer key
    (``PRIVATE+KEY+…``) or a PEM private key is refused whatever it is called.

    >>> is_public_key_file("edossier.pub", "edossier+1a2b3c4d+AQ...")
    True
    >>> is_public_key_file("edossier.key", "PRIVATE+KEY+edossier+1a2b3c4d+AQ...")
    False
    """
    return is_public_key_name(name) and "PRIVATE" not in text


# ---------------------------------------------------------------- parts and manifest
@dataclass(frozen=True)
class PartDigest:
    """Size and SHA-256 of one part of a backup (a key under ``backups/<id>/``)."""

    size: int
    sha256: str


@dataclass(frozen=True)
class InventoryEntry:
    """One archive object the backup holds: its key, size and SHA-256 (hex)."""

    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class LedgerState:
    """The ledger in the catalog dump: tree size and the root recomputed from the dumped leaves."""

    size: int
    root: str  # hex
    head_size: int  # what ledger_head said at backup time
    head_root: str  # hex


@dataclass(frozen=True)
class BackupManifest:
    """``backup.json``: everything needed to check and restore one backup."""

    backup_id: str
    created_at: dt.datetime
    schema: str  # Alembic revision of the dumped catalog
    ledger_origin: str
    ledger: LedgerState
    rows: Mapping[str, int]  # rows per catalog table
    objects: int
    object_bytes: int
    copied: int  # objects copied by this backup (the others were already in the backup store)
    parts: Mapping[str, PartDigest]  # name under backups/<id>/ → digest
    source_store: str  # "fs" | "s3" | "memory"
    tool_version: str
    problems: tuple[Mapping[str, Any], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "backup_id": self.backup_id,
            "created_at": self.created_at.isoformat(),
            "schema": self.schema,
            "ledger_origin": self.ledger_origin,
            "ledger": {
                "hash": LEDGER_HASH,
                "size": self.ledger.size,
                "root": self.ledger.root,
                "head_size": self.ledger.head_size,
                "head_root": self.ledger.head_root,
            },
            "rows": dict(self.rows),
            "objects": self.objects,
            "object_bytes": self.object_bytes,
            "copied": self.copied,
            "parts": {name: {"size": p.size, "sha256": p.sha256} for name, p in sorted(self.parts.items())},
            "source_store": self.source_store,
            "tool_version": self.tool_version,
            "problems": [dict(p) for p in self.problems],
        }

    def to_bytes(self) -> bytes:
        return (
            json.dumps(self.as_dict(), ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"
        )


def parse_manifest(data: bytes, backup_id: str) -> BackupManifest:
    """Read ``backup.json`` of ``backup_id``.

    Raises:
        BackupCorrupt: not JSON, another format, another id, or a field missing or of the wrong type.
    """
    where = f"backups/{backup_id}/{MANIFEST}"
    try:
        doc = json.loads(data)
        if doc.get("format") != FORMAT:
            raise BackupCorrupt(
                f"{where}: format expected {FORMAT!r}, found {doc.get('format')!r}", path=where
            )
        if doc["backup_id"] != backup_id:
            raise BackupCorrupt(
                f"{where}: backup_id expected {backup_id}, found {doc['backup_id']}", path=where
            )
        ledger = doc["ledger"]
        parts = {
            str(k): PartDigest(int(v["size"]), _sha(v["sha256"], where)) for k, v in doc["parts"].items()
        }
        created = dt.datetime.fromisoformat(doc["created_at"])
        return BackupManifest(
            backup_id=backup_id,
            created_at=created,
            schema=str(doc["schema"]),
            ledger_origin=str(doc["ledger_origin"]),
            ledger=LedgerState(
                int(ledger["size"]), str(ledger["root"]), int(ledger["head_size"]), str(ledger["head_root"])
            ),
            rows={str(k): int(v) for k, v in doc["rows"].items()},
            objects=int(doc["objects"]),
            object_bytes=int(doc["object_bytes"]),
            copied=int(doc["copied"]),
            parts=parts,
            source_store=str(doc["source_store"]),
            tool_version=str(doc["tool_version"]),
            problems=tuple(dict(p) for p in doc.get("problems", [])),
        )
    except BackupCorrupt:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupCorrupt(f"{where}: unreadable ({type(exc).__name__}: {exc})", path=where) from None


def _sha(value: object, where: str) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise BackupCorrupt(
            f"{where}: expected a sha256 of 64 lowercase hex digits, found {value!r}", path=where
        )
    return value


def inventory_bytes(backup_id: str, entries: Sequence[InventoryEntry]) -> bytes:
    """``inventory.json``: one JSON object, entries sorted by key, one per line."""
    lines = ",\n".join(
        json.dumps({"key": e.key, "size": e.size, "sha256": e.sha256}, ensure_ascii=False)
        for e in sorted(entries, key=lambda e: e.key)
    )
    head = json.dumps({"format": FORMAT, "backup_id": backup_id}, ensure_ascii=False)[:-1]
    return f'{head}, "objects": [\n{lines}\n]}}\n'.encode()


def parse_inventory(data: bytes, backup_id: str) -> dict[str, InventoryEntry]:
    """Read ``inventory.json``: key → entry.

    Raises:
        BackupCorrupt: not JSON, another backup's inventory, or a malformed entry.
    """
    where = f"backups/{backup_id}/{INVENTORY}"
    try:
        doc = json.loads(data)
        if doc.get("backup_id") != backup_id:
            raise BackupCorrupt(
                f"{where}: backup_id expected {backup_id}, found {doc.get('backup_id')}", path=where
            )
        out: dict[str, InventoryEntry] = {}
        for item in doc["objects"]:
            entry = InventoryEntry(str(item["key"]), int(item["size"]), _sha(item["sha256"], where))
            out[entry.key] = entry
        return out
    except BackupCorrupt:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupCorrupt(f"{where}: unreadable ({type(exc).__name__}: {exc})", path=where) from None


# ---------------------------------------------------------------- decisions
Action = Literal["copy", "skip", "verify"]


def plan_object(
    *, size: int, present_size: int | None, previous: InventoryEntry | None, expected_sha256: str | None
) -> Action:
    """What a backup does with one object of the main store (incremental: never copy twice).

    ``present_size`` is the size of the object already under the key in the backup store (None: absent);
    ``previous`` is its entry in the last complete backup's inventory; ``expected_sha256`` what the catalog
    says (None for objects the catalog keeps no digest of). ``copy`` when absent; ``skip`` when present
    with the size and digest an earlier backup verified; ``verify`` (compare digests by reading) otherwise.

    >>> plan_object(size=3, present_size=None, previous=None, expected_sha256=None)
    'copy'
    >>> e = InventoryEntry("k", 3, "a" * 64)
    >>> plan_object(size=3, present_size=3, previous=e, expected_sha256="a" * 64)
    'skip'
    >>> plan_object(size=3, present_size=3, previous=e, expected_sha256="b" * 64)
    'verify'
    """
    if present_size is None:
        return "copy"
    if (
        previous is not None
        and previous.size == size == present_size
        and (expected_sha256 is None or previous.sha256 == expected_sha256)
    ):
        return "skip"
    return "verify"


def choose_sample(available: Sequence[str], preferred: Iterable[str], count: int, seed: str) -> list[str]:
    """Up to ``count`` keys of ``available``: first the ``preferred`` ones it holds, then a seeded random rest.

    The same arguments always give the same sample (a check can be repeated).

    >>> choose_sample(["a", "b", "c", "d"], ["c", "x"], 2, "s")[0]
    'c'
    """
    if count < 1:
        return []
    held = set(available)
    chosen = list(dict.fromkeys(k for k in preferred if k in held))[:count]
    rest = sorted(held - set(chosen))
    extra = max(0, min(count - len(chosen), len(rest)))
    # not cryptographic: a reproducible spread over the backup, seeded by backup id and dossier
    return chosen + random.Random(seed).sample(rest, extra)  # noqa: S311
