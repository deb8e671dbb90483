"""Integrity audits over HTTP: the runs, one run's results, coverage, and starting a run.

``POST /api/v1/audits`` (``{"scope": "fixity" | "full" | "scheduled"}``) plans the run in the request
and answers 202 with its id; the batches are checked by workers (PostgreSQL) or a background thread
(SQLite) — :mod:`api.http.audit_dispatch`, opened with the app by this router's lifespan.
``GET /api/v1/audits/{run_id}`` shows its progress, then its verdict and results (the evidence alerts
link to). The audit itself is :mod:`integrity.audit.runner`'s; coverage is :mod:`integrity.audit.coverage`'s.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from api.http.audit_dispatch import AuditStarter, audit_starter_for
from api.http.deps import OPERATORS, READERS, Inst, allow
from archive.catalog.errors import DatabaseUnavailable
from archive.catalog.models import AuditBatch, AuditResult, AuditRun
from archive.tokens import Principal
from integrity.audit.coverage import read_coverage
from integrity.audit.runner import AuditRunNotFound, result_from_row


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the audit starter with the app (after the installation) and close it first at shutdown."""
    app.state.audits = audit_starter_for(app.state.inst)
    try:
        yield
    finally:
        await to_thread.run_sync(app.state.audits.close)  # waits for an in-process run to finish


router = APIRouter(prefix="/api/v1/audits", tags=["audits"], lifespan=lifespan)
Reader = Annotated[Principal, Depends(allow(*READERS))]
Operator = Annotated[Principal, Depends(allow(*OPERATORS))]
MAX_PAGE = 200
MAX_OFFSET = 10**9  # keeps OFFSET inside every backend's integer
MAX_RESULTS_PAGE = 1000
Outcome = Literal["ok", "incident", "unreachable"]


class StartFixity(BaseModel):
    """Re-hash every stored object, check the ledger binding, reconcile catalog and store."""

    model_config = ConfigDict(extra="forbid")
    scope: Literal["fixity"]


class StartFull(BaseModel):
    """Fixity plus the DA/T 70 BC (长期保存) stage of every dossier, or of ``dossiers`` only."""

    model_config = ConfigDict(extra="forbid")
    scope: Literal["full"]
    dossiers: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=1000, description="archive ids whose BC stage runs (default: all)"
    )


class StartScheduled(BaseModel):
    """What the audit policy says is due now (possibly nothing)."""

    model_config = ConfigDict(extra="forbid")
    scope: Literal["scheduled"]


StartAudit = Annotated[StartFixity | StartFull | StartScheduled, Field(discriminator="scope")]


def _db(what: str, exc: SQLAlchemyError) -> DatabaseUnavailable:
    return DatabaseUnavailable(f"{what}: {type(exc).__name__}")


def run_view(run: AuditRun) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "scope": run.scope,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "counts": json.loads(run.counts_json or "{}"),
        "results_sha256": run.results_sha256,
        "leaf_index": run.leaf_index,
        "tool_version": run.tool_version,
    }


@router.get("", summary="Audit runs, newest first")
def runs(
    inst: Inst,
    who: Reader,
    status: Annotated[Literal["running", "passed", "failed", "unreachable"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    query = select(AuditRun)
    if status is not None:
        query = query.where(AuditRun.status == status)
    try:
        with inst.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            page = session.scalars(
                query.order_by(AuditRun.started_at.desc(), AuditRun.id).limit(limit).offset(offset)
            )
            items = [run_view(r) for r in page]
    except SQLAlchemyError as exc:
        raise _db("audit runs", exc) from exc
    return {"total": int(total), "limit": limit, "offset": offset, "items": items}


@router.get("/coverage", summary="Per object: when it was last verified (fixity), and which are overdue")
def coverage(
    inst: Inst,
    who: Reader,
    max_age_days: Annotated[int | None, Query(ge=1, le=36500)] = None,
    overdue: Annotated[
        bool | None, Query(description="true: only overdue objects; false: only others")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS_PAGE)] = 200,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Overdue: never verified, or not for ``max_age_days`` (default: the policy's ``fixity_every_days``)."""
    days = max_age_days or inst.settings.audit.fixity_every_days
    try:
        with inst.sessions() as session:
            items = read_coverage(session, dt.datetime.now(dt.UTC), dt.timedelta(days=days))
    except SQLAlchemyError as exc:
        raise _db("audit coverage", exc) from exc
    late = sum(1 for c in items if c.overdue)
    chosen = items if overdue is None else [c for c in items if c.overdue == overdue]
    return {
        "objects": len(items),
        "overdue": late,
        "max_age_days": days,
        "total": len(chosen),
        "limit": limit,
        "offset": offset,
        "items": [c.as_dict() for c in chosen[offset : offset + limit]],
    }


@router.get("/{run_id}", summary="One audit run: progress, counts and results (?outcome=incident)")
def run_detail(
    run_id: str,
    inst: Inst,
    who: Reader,
    outcome: Annotated[Outcome | None, Query()] = None,
    check: Annotated[str | None, Query(max_length=32, description="fixity, ledger, reconcile, BC-…")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS_PAGE)] = 200,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    query = select(AuditResult).where(AuditResult.run_id == run_id)
    if outcome is not None:
        query = query.where(AuditResult.outcome == outcome)
    if check is not None:
        query = query.where(AuditResult.check == check)
    try:
        with inst.sessions() as session:
            run = session.get(AuditRun, run_id)
            if run is None:
                raise AuditRunNotFound(f"audit run {run_id!r}: no such run")
            counted = session.execute(
                select(AuditBatch.status, func.count())
                .where(AuditBatch.run_id == run_id)
                .group_by(AuditBatch.status)
            )
            batches = {str(status): int(n) for status, n in counted}
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(AuditResult.id).limit(limit).offset(offset))
            results = [result_from_row(r).as_dict() | {"checked_at": r.checked_at.isoformat()} for r in rows]
            body = run_view(run)
    except SQLAlchemyError as exc:
        raise _db("audit run", exc) from exc
    return body | {
        "batches": {"total": sum(batches.values()), **dict(sorted(batches.items()))},
        "results": {"total": int(total), "limit": limit, "offset": offset, "items": results},
    }


@router.post(
    "",
    status_code=202,
    summary="Start an audit run (checked by workers or a background thread)",
    responses={200: {"description": "Scope scheduled: nothing is due under the audit policy (no run)"}},
)
def start(request: Request, body: StartAudit, inst: Inst, who: Operator) -> JSONResponse:
    dossiers = body.dossiers if isinstance(body, StartFull) else None
    starter: AuditStarter = request.app.state.audits
    started = starter.start(body.scope, dt.datetime.now(dt.UTC), dossiers)
    if started is None:
        return JSONResponse({"status": "nothing_due", "run_id": None, "scope": body.scope}, status_code=200)
    status_url = f"/api/v1/audits/{started.run_id}"
    answer = {
        "run_id": started.run_id,
        "scope": body.scope,
        "status": "running",
        "batches": started.batches,
        "queued": starter.queued,
        "status_url": status_url,
    }
    return JSONResponse(answer, status_code=202, headers={"Location": status_url})
