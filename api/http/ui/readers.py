"""What the dashboard's overview, dossier and 台账 pages read from the catalog (one session each, reads only).

Every function takes an open session and returns plain values for :mod:`api.http.ui.views` and
the templates; database failures become :class:`~archive.catalog.errors.DatabaseUnavailable`.
Deciding who may see what (副卷) is left to the caller's ``show_secondary``; audit runs are read by
:mod:`api.http.ui.audit_reads`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.http.ui.views import DocumentRow, ProofView, proof_unavailable, proof_view
from archive.cases import OverdueCase, court_today, overdue_cases
from archive.catalog import queries
from archive.catalog.errors import DatabaseUnavailable
from archive.catalog.models import Alert as AlertRow
from archive.catalog.models import AuditResult, AuditRun, DetectionReportRow, Dossier
from archive.register.compute import compute_register, month_range
from archive.register.model import Month, RegisterTable
from archive.register.reader import read_register_inputs
from archive.settings import Settings
from integrity.alerts.catalog import list_alerts
from integrity.audit.coverage import overdue_objects, read_coverage, read_stored_at
from integrity.ledger import proofs as ledger_proofs
from integrity.ledger.store import LedgerStore, StoredCheckpoint
from integrity.reports.store import StoredReport, load_report
from standards.errors import EdossierError

FINISHED = ("passed", "failed", "unreachable")


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Translate a database failure while reading ``what`` into :class:`DatabaseUnavailable`."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"dashboard {what}: {type(exc).__name__}") from exc


# ------------------------------------------------------------------ overview
@dataclass(frozen=True)
class Overview:
    stats: queries.CatalogStats
    last_run: AuditRun | None
    last_finished: AuditRun | None
    incidents: list[AuditResult]
    incident_count: int
    overdue_cases: list[OverdueCase]
    objects: int
    objects_verified: int
    objects_overdue: int
    checkpoint: StoredCheckpoint | None
    open_alerts: int
    open_incident_alerts: int
    latest_alerts: list[AlertRow]


def read_overview(session: Session, settings: Settings, now: dt.datetime, *, listed: int = 5) -> Overview:
    """Totals, the latest audit run, the incidents of the latest finished run, overdue archiving and
    audits, and the open (unacknowledged) alerts.

    The incidents of the latest finished run are what the archive looks like now (a later run that
    finds the object sound again no longer lists it); an incident *alert* stays open until a person
    acknowledges it.
    """
    max_age = dt.timedelta(days=settings.audit.fixity_every_days)
    with reading("overview"):
        stats = queries.catalog_stats(session)
        runs = select(AuditRun).order_by(AuditRun.started_at.desc(), AuditRun.id.desc()).limit(1)
        last_run = session.scalars(runs).first()
        last_finished = session.scalars(runs.where(AuditRun.status.in_(FINISHED))).first()
        incidents: list[AuditResult] = []
        count = 0
        if last_finished is not None:
            wanted = (AuditResult.run_id == last_finished.id, AuditResult.outcome == "incident")
            count = session.scalar(select(func.count()).select_from(AuditResult).where(*wanted)) or 0
            incidents = list(
                session.scalars(select(AuditResult).where(*wanted).order_by(AuditResult.id).limit(listed))
            )
        cases = overdue_cases(session, court_today(now), settings.archiving_deadline_days)
        coverage = read_coverage(session, now, max_age)
        late = overdue_objects(coverage, read_stored_at(session), now, max_age)
        checkpoint = LedgerStore().latest_checkpoint(session)
        open_alerts, latest_alerts = list_alerts(session, acknowledged=False, limit=listed)
        open_incidents, _ = list_alerts(session, acknowledged=False, kind="incident", limit=1)
    return Overview(
        stats=stats,
        last_run=last_run,
        last_finished=last_finished,
        incidents=incidents,
        incident_count=int(count),
        overdue_cases=cases,
        objects=len(coverage),
        objects_verified=sum(1 for c in coverage if not c.overdue),
        objects_overdue=len(late),
        checkpoint=checkpoint,
        open_alerts=open_alerts,
        open_incident_alerts=open_incidents,
        latest_alerts=latest_alerts,
    )


# ------------------------------------------------------------------ dossiers
def departments(session: Session) -> list[str]:
    """Every 承办部门 with an archived dossier, for the search form."""
    with reading("departments"):
        return list(session.scalars(select(Dossier.department).distinct().order_by(Dossier.department)))


def search_dossiers(
    session: Session,
    *,
    case_number: str | None,
    department: str | None,
    year: int | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Dossier]]:
    """Dossiers whose 案号 contains ``case_number``, of ``department`` and ``year``; newest archived first."""
    query = select(Dossier)
    if case_number:
        query = query.where(Dossier.case_number.contains(case_number.strip(), autoescape=True))
    if department:
        query = query.where(Dossier.department == department)
    if year is not None:
        query = query.where(Dossier.year == year)
    with reading("dossier search"):
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        ordered = query.order_by(Dossier.archived_at.desc(), Dossier.archive_id).limit(limit).offset(offset)
        return int(total), list(session.scalars(ordered))


@dataclass(frozen=True)
class DossierPage:
    dossier: Dossier
    documents: list[DocumentRow]
    gd_report: StoredReport | None
    bc_report: StoredReport | None
    report_error: str | None
    proof: ProofView


def _latest_report(session: Session, archive_id: str, stage: str) -> StoredReport | None:
    report_id = session.scalars(
        select(DetectionReportRow.id)
        .where(DetectionReportRow.archive_id == archive_id, DetectionReportRow.stage == stage)
        .order_by(DetectionReportRow.created_at.desc(), DetectionReportRow.id.desc())
        .limit(1)
    ).first()
    return load_report(session, report_id) if report_id is not None else None


def _proof(session: Session, archive_id: str) -> ProofView:
    """The dossier's inclusion proof, built and verified here (RFC 9162 §2.1.3)."""
    try:
        got = ledger_proofs.inclusion_proof_for_archive(session, archive_id)
        checkpoint = LedgerStore().latest_checkpoint(session)
    except EdossierError as error:  # no leaf, a node missing, a root that does not match
        return proof_unavailable(error.code, error.message)
    size = checkpoint.size if checkpoint is not None else None
    return proof_view(got.index, got.size, got.leaf_hash, got.proof, got.root, checkpoint_size=size)


def read_dossier(session: Session, key: str) -> DossierPage | None:
    """One dossier (by archive id or 案号) with every document, its latest GD/BC reports and proof status.

    The caller leaves out what the viewer may not see (副卷).
    """
    with reading("dossier"):
        dossier = queries.find_dossier(session, key)
        if dossier is None:
            return None
        documents = [
            DocumentRow(
                d.sequence,
                d.archival_code,
                d.title,
                d.date,
                d.volume,
                d.pages,
                d.format,
                d.file_size,
                d.sha256,
            )
            for d in dossier.documents
        ]
        error = None
        try:
            gd = _latest_report(session, dossier.archive_id, "GD")
            bc = _latest_report(session, dossier.archive_id, "BC")
        except EdossierError as problem:  # a stored report that cannot be rebuilt
            gd = bc = None
            error = f"{problem.code}: {problem.message}"
        proof = _proof(session, dossier.archive_id)
    return DossierPage(dossier, documents, gd, bc, error, proof)


# ------------------------------------------------------------------ 台账
def read_register(
    session: Session, settings: Settings, first: Month, last: Month, now: dt.datetime
) -> RegisterTable:
    """The archiving register (归档台账) of ``first`` … ``last`` at ``now``, as the CLI computes it.

    Raises:
        RegisterRangeInvalid: a reversed range, a month in the future or too many months.
        DatabaseUnavailable: the database failed.
    """
    period = dt.timedelta(days=settings.audit.fixity_every_days)
    month_range(first, last, today=court_today(now))  # refuses a bad range before reading anything
    with reading("register"):
        inputs = read_register_inputs(session, first, last, audit_period=period)
    return compute_register(
        inputs, first, last, deadline_days=settings.archiving_deadline_days, audit_period=period, now=now
    )


def run_counts(run: AuditRun) -> dict[str, Any]:
    """A run's ``counts_json`` (``{}`` when it is not an object)."""
    try:
        counts = json.loads(run.counts_json or "{}")
    except ValueError:
        return {}
    return counts if isinstance(counts, dict) else {}
