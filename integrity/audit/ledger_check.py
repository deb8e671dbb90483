"""Ledger checks of an audit: each dossier is bound to its ``dossier.archived`` leaf, and the log is whole.

Per dossier (:func:`check_dossier`), the AIP manifest read from the store must

* hash to ``Dossier.manifest_sha256`` (the catalog) **and** to the ``manifest_sha256`` named in the
  dossier's ``dossier.archived`` leaf (``LedgerStore.leaf(session, dossier.leaf_index)``) — the leaf
  is what the signed checkpoints commit to, so a catalog edit cannot hide behind it;
* list, for every catalogued document, the same content digests (SHA-256, SM3), size, path and
  metadata digest as the ``documents`` rows (so editing a digest in the catalog is an incident).

Once per run, :func:`check_whole_ledger` runs :func:`integrity.ledger.verify.check_ledger` (leaf,
node, head and checkpoint tampering, rolled-back checkpoints). The comparisons are pure
(:func:`binding_problems`, :func:`document_problems`); the two ``check_*`` functions are the thin
readers. An outage is ``unreachable``, never an incident. Recording is left to the audit runner.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.catalog.models import Document, Dossier
from archive.reconcile import aip_keys
from archive.stores.base import ObjectStore
from archive.stores.errors import ObjectNotFound, StoreError, StoreUnavailable
from integrity.audit.fixity import ExpectedFixity
from integrity.hashing import CHUNK, digests_equal
from integrity.ledger.store import LedgerStore, TreeSizeOutOfRange
from integrity.ledger.verify import check_ledger
from integrity.signed_note import NoteVerifier
from standards.errors import StorageError

Outcome = Literal["ok", "incident", "unreachable"]
#: The largest manifest an audit reads into memory (a manifest is small JSON; anything bigger is wrong).
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
#: Key of the whole-ledger result of a run.
LEDGER_KEY = "ledger"
#: How many ledger findings an audit result keeps as evidence (the count is always kept).
MAX_EVIDENCE_FINDINGS = 50


@dataclass(frozen=True)
class LedgerCheckResult:
    """One ledger check: the object (manifest key or ``ledger``), outcome, problems as evidence."""

    key: str
    outcome: Outcome
    evidence: dict[str, Any]
    archive_id: str | None = None
    manifest: Mapping[str, Any] | None = field(default=None, compare=False)  # parsed, when readable


@dataclass(frozen=True)
class DocumentFacts:
    """A ``documents`` row as the manifest comparison needs it."""

    sequence: int
    file_path: str
    file_size: int
    sha256: str
    sm3: str
    metadata_sha256: str


# ---------------------------------------------------------------- pure decisions
def _problem(code: str, expected: Any, found: Any, **where: Any) -> dict[str, Any]:
    return {"code": code, "expected": expected, "found": found, **where}


def binding_problems(
    catalog_sha256: str, found_sha256: str, leaf_event: Mapping[str, Any] | None, archive_id: str
) -> list[dict[str, Any]]:
    """Compare the manifest digest of the catalog, of the stored bytes and of the ``dossier.archived`` leaf.

    >>> binding_problems("aa" * 32, "aa" * 32, {"type": "dossier.archived", "archive_id": "A",
    ...     "manifest_sha256": "aa" * 32}, "A")
    []
    """
    problems: list[dict[str, Any]] = []
    if not digests_equal(catalog_sha256, found_sha256):
        problems.append(_problem("manifest_digest_differs_from_catalog", catalog_sha256, found_sha256))
    if leaf_event is None:
        return problems
    if leaf_event.get("type") != "dossier.archived" or leaf_event.get("archive_id") != archive_id:
        problems.append(
            _problem(
                "leaf_is_not_this_dossiers_archiving",
                {"type": "dossier.archived", "archive_id": archive_id},
                {"type": leaf_event.get("type"), "archive_id": leaf_event.get("archive_id")},
            )
        )
        return problems
    leaf_sha256 = str(leaf_event.get("manifest_sha256", ""))
    if not digests_equal(leaf_sha256, catalog_sha256):
        problems.append(_problem("catalog_digest_differs_from_ledger", leaf_sha256, catalog_sha256))
    if not digests_equal(leaf_sha256, found_sha256):
        problems.append(_problem("manifest_digest_differs_from_ledger", leaf_sha256, found_sha256))
    return problems


def document_problems(
    manifest: Mapping[str, Any], documents: Sequence[DocumentFacts]
) -> list[dict[str, Any]]:
    """Compare the manifest's documents with the ``documents`` rows of the catalog (by sequence)."""
    listed: dict[int, Mapping[str, Any]] = {}
    for entry in manifest.get("documents", []):
        if isinstance(entry, Mapping) and isinstance(entry.get("sequence"), int):
            listed[entry["sequence"]] = entry
    problems: list[dict[str, Any]] = []
    rows = {d.sequence: d for d in documents}
    for seq in sorted(set(listed) - set(rows)):
        problems.append(_problem("document_missing_from_catalog", seq, None, sequence=seq))
    for seq in sorted(set(rows) - set(listed)):
        problems.append(_problem("document_not_in_manifest", None, seq, sequence=seq))
    for seq in sorted(set(rows) & set(listed)):
        row, entry = rows[seq], listed[seq]
        content = entry.get("content") or {}
        digests = content.get("digests") or {}
        metadata = (entry.get("metadata") or {}).get("digests") or {}
        pairs = (
            ("documents.sha256", digests.get("sha256"), row.sha256),
            ("documents.sm3", digests.get("sm3"), row.sm3),
            ("documents.metadata_sha256", metadata.get("sha256"), row.metadata_sha256),
        )
        for column, want, have in pairs:
            if want is not None and not digests_equal(str(want), have):
                problems.append(
                    _problem("catalog_digest_differs_from_manifest", want, have, column=column, sequence=seq)
                )
        if content.get("size") != row.file_size:
            problems.append(
                _problem(
                    "catalog_size_differs_from_manifest",
                    content.get("size"),
                    row.file_size,
                    column="documents.file_size",
                    sequence=seq,
                )
            )
        if content.get("path") != row.file_path:
            problems.append(
                _problem(
                    "catalog_path_differs_from_manifest",
                    content.get("path"),
                    row.file_path,
                    column="documents.file_path",
                    sequence=seq,
                )
            )
    return problems


def aip_file_expectations(
    dossier_archive_id: str, manifest_key: str, manifest: Mapping[str, Any]
) -> list[ExpectedFixity]:
    """The 说明文件/目录文件 objects beside the manifest, with the digests and sizes the manifest lists."""
    out: list[ExpectedFixity] = []
    _, description_key, catalog_key = aip_keys(manifest_key)
    for key, name in ((description_key, "description_file"), (catalog_key, "catalog_file")):
        record = manifest.get(name)
        if not isinstance(record, Mapping):
            continue
        digests = {k: str(v) for k, v in (record.get("digests") or {}).items() if k in ("sha256", "sm3")}
        size = record.get("size")
        if "sha256" in digests:
            out.append(
                ExpectedFixity(
                    key, digests, size if isinstance(size, int) else None, dossier_archive_id, "aip-file"
                )
            )
    return out


# ---------------------------------------------------------------- thin readers
def _read_manifest(store: ObjectStore, key: str, limit: int) -> bytes:
    """The manifest's bytes, read in chunks up to ``limit``.

    Raises:
        ObjectNotFound, StoreUnavailable, StoreError: as ``store.open``.
        ValueError: the object is larger than ``limit``.
    """
    parts: list[bytes] = []
    total = 0
    with store.open(key) as stream:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            if total > limit:
                raise ValueError(f"manifest {key!r}: expected at most {limit} bytes, found more")
            parts.append(chunk)
    return b"".join(parts)


def dossier_documents(session: Session, archive_id: str) -> list[DocumentFacts]:
    """The catalogued documents of one dossier (reads only)."""
    rows = session.execute(
        select(
            Document.sequence,
            Document.file_path,
            Document.file_size,
            Document.sha256,
            Document.sm3,
            Document.metadata_sha256,
        ).where(Document.archive_id == archive_id)
    )
    return [DocumentFacts(*row) for row in rows]


def check_dossier(
    session: Session,
    store: ObjectStore,
    dossier: Dossier,
    *,
    ledger: LedgerStore | None = None,
    limit: int = MAX_MANIFEST_BYTES,
) -> LedgerCheckResult:
    """Check that one dossier's stored manifest, catalog rows and ``dossier.archived`` leaf agree.

    Raises:
        StorageError: the database failed (the caller classifies it as an outage).
    """
    ledger = ledger or LedgerStore()
    key, archive_id = dossier.manifest_key, dossier.archive_id
    evidence: dict[str, Any] = {
        "leaf_index": dossier.leaf_index,
        "catalog_manifest_sha256": dossier.manifest_sha256,
    }
    try:
        data = _read_manifest(store, key, limit)
    except ObjectNotFound:
        evidence["problems"] = [_problem("manifest_missing", dossier.manifest_sha256, None)]
        return LedgerCheckResult(key, "incident", evidence, archive_id)
    except (StoreUnavailable, StoreError) as error:
        evidence |= {"error_code": error.code, "error": error.message}
        return LedgerCheckResult(key, "unreachable", evidence, archive_id)
    except OSError as exc:
        evidence |= {"error_code": "store_unavailable", "error": f"{type(exc).__name__}: {exc}"}
        return LedgerCheckResult(key, "unreachable", evidence, archive_id)
    except ValueError as exc:
        evidence["problems"] = [_problem("manifest_too_large", limit, str(exc))]
        return LedgerCheckResult(key, "incident", evidence, archive_id)
    found = hashlib.sha256(data).hexdigest()
    evidence["found_manifest_sha256"] = found
    problems: list[dict[str, Any]] = []
    leaf_event: dict[str, Any] | None = None
    try:
        leaf = ledger.leaf(session, dossier.leaf_index)
        leaf_event = json.loads(leaf.data)
        evidence["ledger_manifest_sha256"] = (
            leaf_event.get("manifest_sha256") if isinstance(leaf_event, dict) else None
        )
    except TreeSizeOutOfRange:
        problems.append(_problem("archiving_leaf_missing", dossier.leaf_index, None))
    except (ValueError, UnicodeDecodeError):
        problems.append(_problem("archiving_leaf_unreadable", "canonical JSON", "undecodable bytes"))
    if leaf_event is not None and not isinstance(leaf_event, dict):
        problems.append(_problem("archiving_leaf_unreadable", "JSON object", type(leaf_event).__name__))
        leaf_event = None
    problems += binding_problems(dossier.manifest_sha256, found, leaf_event, archive_id)
    manifest: dict[str, Any] | None = None
    try:
        parsed = json.loads(data)
        manifest = parsed if isinstance(parsed, dict) else None
    except (ValueError, UnicodeDecodeError):
        manifest = None
    if manifest is None:
        problems.append(_problem("manifest_unreadable", "JSON object", "undecodable bytes"))
    else:
        try:
            documents = dossier_documents(session, archive_id)
        except SQLAlchemyError as exc:
            raise StorageError(
                f"audit: reading documents of {archive_id} failed ({type(exc).__name__})"
            ) from exc
        problems += document_problems(manifest, documents)
    evidence["problems"] = problems
    return LedgerCheckResult(key, "incident" if problems else "ok", evidence, archive_id, manifest)


def check_whole_ledger(
    session: Session, verifiers: Sequence[NoteVerifier], *, origin: str | None = None
) -> LedgerCheckResult:
    """Run :func:`check_ledger` once: leaves, nodes, head and every checkpoint (rolled back, forked)."""
    try:
        report = check_ledger(session, verifiers, origin=origin)
    except StorageError as error:
        return LedgerCheckResult(
            LEDGER_KEY, "unreachable", {"error_code": error.code, "error": error.message}
        )
    evidence: dict[str, Any] = {
        "size": report.size,
        "root": report.root.hex() if report.root is not None else None,
        "leaves_checked": report.leaves_checked,
        "nodes_checked": report.nodes_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "finding_count": len(report.findings),
        "findings": [f.as_dict() for f in report.findings[:MAX_EVIDENCE_FINDINGS]],
    }
    return LedgerCheckResult(LEDGER_KEY, "ok" if report.ok else "incident", evidence)
