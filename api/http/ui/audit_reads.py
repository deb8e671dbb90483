"""What the dashboard's audit pages read: runs, one run's results by outcome, one result's evidence.

One session each, reads only; database failures become
:class:`~archive.catalog.errors.DatabaseUnavailable` (:func:`api.http.ui.readers.reading`).
Formatting and redaction for auditors are left to :mod:`api.http.ui.views`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from api.http.ui.readers import reading
from archive.catalog.models import AuditResult, AuditRun
from integrity.audit.recorder import result_from_row
from integrity.audit.results import CheckResult, Outcome

OUTCOMES = ("incident", "unreachable", "ok")


def list_runs(session: Session, *, limit: int, offset: int) -> tuple[int, list[AuditRun]]:
    """Audit runs, newest first."""
    with reading("audit runs"):
        total = session.scalar(select(func.count()).select_from(AuditRun)) or 0
        rows = session.scalars(
            select(AuditRun)
            .order_by(AuditRun.started_at.desc(), AuditRun.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return int(total), list(rows)


@dataclass(frozen=True)
class ResultRow:
    """One recorded result with its row id (the drill-down link)."""

    id: int
    result: CheckResult


@dataclass(frozen=True)
class RunPage:
    run: AuditRun
    by_outcome: dict[str, int]
    total: int  # results matching the outcome filter
    results: list[ResultRow]


def _row(row: AuditResult) -> ResultRow:
    try:
        return ResultRow(row.id, result_from_row(row))
    except ValueError:  # evidence that is not JSON: show it as text
        outcome = cast(Outcome, row.outcome)
        return ResultRow(
            row.id, CheckResult(row.object_key, row.check, outcome, {"evidence_json": row.evidence_json})
        )


def read_run(
    session: Session, run_id: str, *, outcome: str | None, limit: int, offset: int
) -> RunPage | None:
    """One run, its result counts by outcome and a page of results (incidents first, then by record order)."""
    with reading("audit run"):
        run = session.get(AuditRun, run_id)
        if run is None:
            return None
        by_outcome = {
            str(o): int(n)
            for o, n in session.execute(
                select(AuditResult.outcome, func.count())
                .where(AuditResult.run_id == run_id)
                .group_by(AuditResult.outcome)
            )
        }
        query = select(AuditResult).where(AuditResult.run_id == run_id)
        if outcome is not None:
            query = query.where(AuditResult.outcome == outcome)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rank = case(  # incidents, then outages, then the sound objects
            *((AuditResult.outcome == o, n) for n, o in enumerate(OUTCOMES)), else_=len(OUTCOMES)
        )
        rows = session.scalars(query.order_by(rank, AuditResult.id).limit(limit).offset(offset))
        results = [_row(r) for r in rows]
    return RunPage(run, by_outcome, int(total), results)


def read_result(session: Session, run_id: str, result_id: int) -> tuple[AuditRun, ResultRow] | None:
    """One result of ``run_id`` (``None`` when the run has no result with this id)."""
    with reading("audit result"):
        row = session.get(AuditResult, result_id)
        if row is None or row.run_id != run_id:
            return None
        run = session.get(AuditRun, run_id)
        if run is None:  # pragma: no cover - the foreign key keeps them together
            return None
        return run, _row(row)
