"""What a crashed ingest may leave behind, checked on one data directory through the catalog and store.

Each check returns a list of problems (English, for the test report); an empty list is consistent:

* :func:`half_archived` – every dossier row has its documents, its AIP objects (manifest bytes match
  ``manifest_sha256``), every blob (catalogued, stored, right size and SHA-256), its ledger leaf and its
  ``archived`` submission; every ``dossier.archived`` leaf names a dossier row that points back at it;
* :func:`reconcile_incidents` – :func:`archive.reconcile.reconcile` finds no incident (orphans are info);
* :func:`ledger_findings` – :func:`integrity.ledger.verify.check_ledger` with the installation's verifiers.

:func:`phase` classifies where a kill landed from what is on disk. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.wiring import Installation
from archive.catalog.models import Blob, Document, Dossier, LedgerLeaf, Submission
from archive.reconcile import aip_keys, reconcile
from archive.stores import ObjectStore
from archive.stores.errors import ObjectNotFound
from integrity.ledger.rotation import load_known_verifiers
from integrity.ledger.verify import check_ledger


def _sha256(store: ObjectStore, key: str) -> str | None:
    try:
        with store.open(key) as f:
            return hashlib.sha256(f.read()).hexdigest()
    except ObjectNotFound:
        return None


def _blob_problems(session: Session, store: ObjectStore, archive_id: str, sha: str) -> list[str]:
    blob = session.get(Blob, sha)
    if blob is None:
        return [f"{archive_id}: no blob row for {sha}"]
    try:
        size = store.stat(blob.store_key).size
    except ObjectNotFound:
        return [f"{archive_id}: blob {blob.store_key} not in the store"]
    if size != blob.size:
        return [f"{archive_id}: blob {blob.store_key} size {size}, catalog says {blob.size}"]
    found = _sha256(store, blob.store_key)
    if found != sha:
        return [f"{archive_id}: blob {blob.store_key} sha256 {found}, expected {sha}"]
    return []


def _dossier_problems(session: Session, store: ObjectStore, d: Dossier) -> list[str]:
    out: list[str] = []
    docs = session.scalars(select(Document).where(Document.archive_id == d.archive_id)).all()
    if len(docs) != d.document_count:
        out.append(f"{d.archive_id}: {len(docs)} document rows, dossier says {d.document_count}")
    for key in aip_keys(d.manifest_key):
        if not store.exists(key):
            out.append(f"{d.archive_id}: AIP object {key} not in the store")
    found = _sha256(store, d.manifest_key)
    if found is not None and found != d.manifest_sha256:
        out.append(f"{d.archive_id}: manifest sha256 {found}, catalog says {d.manifest_sha256}")
    for doc in docs:
        for sha in (doc.sha256, doc.metadata_sha256):
            out += _blob_problems(session, store, d.archive_id, sha)
    leaf = session.get(LedgerLeaf, d.leaf_index)
    if leaf is None:
        out.append(f"{d.archive_id}: no ledger leaf at index {d.leaf_index}")
    else:
        event = json.loads(leaf.data)
        if leaf.kind != "dossier.archived" or event.get("archive_id") != d.archive_id:
            out.append(f"{d.archive_id}: leaf {d.leaf_index} is {leaf.kind} of {event.get('archive_id')}")
        elif event.get("manifest_sha256") != d.manifest_sha256:
            out.append(
                f"{d.archive_id}: leaf manifest {event.get('manifest_sha256')}, row {d.manifest_sha256}"
            )
    submitted = session.scalars(
        select(Submission.id).where(Submission.archive_id == d.archive_id, Submission.status == "archived")
    ).all()
    if len(submitted) != 1:
        out.append(f"{d.archive_id}: {len(submitted)} archived submission rows, expected 1")
    return out


def half_archived(inst: Installation) -> list[str]:
    """Problems (a): dossiers missing any part, and ``dossier.archived`` leaves without their dossier."""
    out: list[str] = []
    with inst.sessions() as session:
        dossiers = session.scalars(select(Dossier)).all()
        for d in dossiers:
            out += _dossier_problems(session, inst.store, d)
        by_leaf = {d.leaf_index: d.archive_id for d in dossiers}
        for leaf in session.scalars(select(LedgerLeaf).where(LedgerLeaf.kind == "dossier.archived")):
            named = json.loads(leaf.data).get("archive_id")
            if by_leaf.get(leaf.leaf_index) != named:
                out.append(f"leaf {leaf.leaf_index} archives {named}, no dossier row points at it")
    return out


def reconcile_incidents(inst: Installation, now: dt.datetime) -> tuple[list[str], int]:
    """Problems (b) and the number of orphans reconciliation reported (allowed after a kill)."""
    with inst.sessions() as session:
        report = reconcile(session, inst.store, inst.settings, now)
    problems = [f"reconcile {f.kind} {f.key}: {f.evidence}" for f in report.incidents]
    if report.status != "clean" and not problems:
        problems.append(f"reconcile status {report.status}: {[f.as_dict() for f in report.findings]}")
    return problems, sum(1 for f in report.findings if f.kind == "orphan")


def ledger_findings(inst: Installation) -> list[str]:
    """Problems (c): every finding of the whole-ledger check with the installation's verifiers."""
    verifiers = load_known_verifiers(inst.settings.keys_dir)
    with inst.sessions() as session:
        report = check_ledger(session, verifiers, origin=inst.settings.ledger_origin)
    problems = [f"ledger {f.code}: {f.message}" for f in report.findings]
    if not report.ok and not problems:
        problems.append(f"ledger not ok: {report.as_dict()}")
    return problems


def phase(inst: Installation, archive_id: str, exited: bool) -> str:
    """Where the kill landed, from the evidence: before commit (by progress) or after commit."""
    with inst.sessions() as session:
        committed = session.get(Dossier, archive_id) is not None
    if committed:
        return "after commit (process had exited)" if exited else "after commit"
    if any(True for _ in inst.store.iter_objects("")):
        return "before commit: objects written"
    staging = inst.settings.staging_dir
    if staging.is_dir() and any(staging.iterdir()):
        return "before commit: staged"
    return "before commit: nothing on disk"
