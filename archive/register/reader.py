"""Read the inputs of the archiving register (归档台账) from the catalog: one session, reads only.

Works on SQLite and PostgreSQL alike (plain selects, no dialect functions). What is read for the
months ``first`` … ``last``:

* every closed case of the case ledger and every dossier (so a 案号 gets the same department
  whatever range is asked for);
* the object keys (AIP manifest, content and metadata blobs) of the dossiers archived before the
  end of ``last``;
* the submissions received within the range;
* the ``ok`` fixity results from ``audit_period`` before the start of ``first`` to the end of ``last``.

Deciding anything is left to :func:`archive.register.compute.compute_register`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from archive.catalog.errors import DatabaseUnavailable
from archive.catalog.models import AuditResult, Blob, ClosedCase, Document, Dossier, Submission
from archive.register.model import (
    CaseRecord,
    DossierRecord,
    Month,
    RegisterInputs,
    SubmissionRecord,
    VerificationRecord,
)


def _object_keys(session: Session, before: dt.datetime) -> dict[str, set[str]]:
    """Store keys of the content and metadata blobs of every dossier archived before ``before``."""
    keys: dict[str, set[str]] = defaultdict(set)
    for digest_column in (Document.sha256, Document.metadata_sha256):
        query = (
            select(Document.archive_id, Blob.store_key)
            .join(Blob, Blob.sha256 == digest_column)
            .join(Dossier, Dossier.archive_id == Document.archive_id)
            .where(Dossier.archived_at < before)
        )
        for archive_id, key in session.execute(query):
            keys[archive_id].add(key)
    return keys


def _read(session: Session, first: Month, last: Month, audit_period: dt.timedelta) -> RegisterInputs:
    cases = tuple(
        CaseRecord(number, department, closing)
        for number, department, closing in session.execute(
            select(ClosedCase.case_number, ClosedCase.department, ClosedCase.closing_date).order_by(
                ClosedCase.case_number
            )
        )
    )
    blobs = _object_keys(session, last.end)
    dossiers = tuple(
        DossierRecord(
            archive_id=row.archive_id,
            case_number=row.case_number,
            department=row.department,
            closing_date=row.closing_date,
            archived_at=row.archived_at,
            object_keys=(
                (row.manifest_key, *sorted(blobs.get(row.archive_id, ())))
                if row.archived_at < last.end
                else ()
            ),
        )
        for row in session.execute(
            select(
                Dossier.archive_id,
                Dossier.case_number,
                Dossier.department,
                Dossier.closing_date,
                Dossier.archived_at,
                Dossier.manifest_key,
            ).order_by(Dossier.archive_id)
        )
    )
    submissions = tuple(
        SubmissionRecord(received_at, case_number, status)
        for received_at, case_number, status in session.execute(
            select(Submission.received_at, Submission.case_number, Submission.status)
            .where(Submission.received_at >= first.start, Submission.received_at < last.end)
            .order_by(Submission.received_at, Submission.id)
        )
    )
    verifications = tuple(
        VerificationRecord(key, checked_at)
        for key, checked_at in session.execute(
            select(AuditResult.object_key, AuditResult.checked_at).where(
                AuditResult.check == "fixity",
                AuditResult.outcome == "ok",
                AuditResult.checked_at > first.start - audit_period,
                AuditResult.checked_at < last.end,
            )
        )
    )
    return RegisterInputs(cases, dossiers, submissions, verifications)


def read_register_inputs(
    session: Session, first: Month, last: Month, *, audit_period: dt.timedelta
) -> RegisterInputs:
    """The records :func:`~archive.register.compute.compute_register` needs for ``first`` … ``last``.

    Only reads; the caller owns the session (a read session is enough).

    Raises:
        ValueError: ``first`` is after ``last`` (a caller bug).
        DatabaseUnavailable: the database failed while reading.
    """
    if first > last:
        raise ValueError(f"month range: expected first <= last; found {first} > {last}")
    try:
        return _read(session, first, last, audit_period)
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__
        raise DatabaseUnavailable(f"database failed while reading the register inputs: {reason}") from None
