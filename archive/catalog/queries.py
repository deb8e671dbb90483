"""Read-only catalog queries shared by ingest, audit, the API and the CLI.

Every function takes an open :class:`~sqlalchemy.orm.Session` and only reads: none flushes on
purpose, none commits – the caller owns the transaction (STYLE: one service owns a transaction).
Writing rows, ledger appends and locking are left to the ingest service and the ledger store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.catalog.models import Blob, Document, Dossier, LedgerHead, Submission

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
#: Bound parameters per IN (...) query; under SQLite's historical 999-variable limit.
IN_CHUNK = 500
#: Primary key of the single ledger head row.
LEDGER_HEAD_ID = 1


class CatalogStats(TypedDict):
    """Totals for the dashboard and the monthly ledger (台账) report."""

    dossiers: int
    documents: int
    blobs: int
    blob_bytes: int
    ledger_size: int


def _sha256_hex(value: str, field: str) -> str:
    digest = value.strip().lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise ValueError(f"{field}: expected 64 hex digits (SHA-256); found {value[:80]!r}")
    return digest


def find_dossier(session: Session, id_or_case_number: str) -> Dossier | None:
    """The dossier with this archive id, else the one with this 案号, else None.

    An archive id match wins, so a lookup by archive id is never shadowed by a case number.
    """
    key = id_or_case_number.strip()
    if not key:
        return None
    dossier = session.get(Dossier, key)
    if dossier is not None:
        return dossier
    return session.scalars(select(Dossier).where(Dossier.case_number == key)).one_or_none()


def is_case_archived(session: Session, case_number: str) -> str | None:
    """The archive id of the dossier archived for ``case_number`` (案号), or None.

    ``dossiers.case_number`` is unique, so one case is archived at most once.
    """
    return session.scalars(
        select(Dossier.archive_id).where(Dossier.case_number == case_number.strip())
    ).one_or_none()


def find_submission_by_digest(
    session: Session, source_digest: str, *, status: str | None = None
) -> Submission | None:
    """The most recent submission of the package with this SHA-256 (optionally only with ``status``).

    The same package may be handed in more than once (rejected, then resubmitted unchanged);
    the latest one by ``received_at`` is returned.

    Raises:
        ValueError: ``source_digest`` is not 64 hex digits (a caller bug).
    """
    digest = _sha256_hex(source_digest, "source_digest")
    query = select(Submission).where(Submission.source_digest == digest)
    if status is not None:
        query = query.where(Submission.status == status)
    query = query.order_by(Submission.received_at.desc(), Submission.id.desc()).limit(1)
    return session.scalars(query).first()


def catalog_stats(session: Session) -> CatalogStats:
    """Counts of dossiers, documents and blobs, total blob bytes and the ledger's tree size (0 if empty)."""
    dossiers = session.scalar(select(func.count()).select_from(Dossier)) or 0
    documents = session.scalar(select(func.count()).select_from(Document)) or 0
    blobs, blob_bytes = session.execute(
        select(func.count(), func.coalesce(func.sum(Blob.size), 0)).select_from(Blob)
    ).one()
    ledger_size = session.scalar(select(LedgerHead.size).where(LedgerHead.id == LEDGER_HEAD_ID)) or 0
    return CatalogStats(
        dossiers=int(dossiers),
        documents=int(documents),
        blobs=int(blobs),
        blob_bytes=int(blob_bytes),
        ledger_size=int(ledger_size),
    )


def known_blobs(session: Session, sha256s: Iterable[str]) -> set[str]:
    """Which of these SHA-256 digests (hex) are already catalogued as blobs.

    Ingest uses it to skip uploading content the store already holds (content addressing).
    Digests are compared in lower-case hex and returned that way.

    Raises:
        ValueError: one of ``sha256s`` is not 64 hex digits (a caller bug).
    """
    wanted = sorted({_sha256_hex(value, "sha256") for value in sha256s})
    found: set[str] = set()
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        found.update(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(chunk))))
    return found
