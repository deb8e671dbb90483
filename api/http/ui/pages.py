"""The archivist's dashboard under ``/ui`` (issue 6, item 4): server-rendered pages in Chinese.

Pages: overview (``/ui``), dossiers (``/ui/dossiers``, ``/ui/dossiers/{id}``), audit runs
(``/ui/audits``, ``/ui/audits/{run_id}``, ``/ui/audits/{run_id}/results/{id}``), alerts
(``/ui/alerts``) and the 归档台账 (``/ui/register`` with ``.xlsx`` / ``.pdf`` downloads). Each page is
parse → read (:mod:`api.http.ui.readers`, :mod:`api.http.ui.audit_reads`) → shape
(:mod:`api.http.ui.views`) → render; login and roles are :mod:`api.http.ui.auth`, error pages
:mod:`api.http.ui.route`. The router is left out of the OpenAPI schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.http.deps import Inst
from api.http.routes.dossiers import sees_secondary
from api.http.ui import alert_views, auth, views
from api.http.ui.audit_reads import OUTCOMES, list_runs, read_result, read_run
from api.http.ui.chart import bar_chart
from api.http.ui.readers import (
    departments,
    read_dossier,
    read_overview,
    read_register,
    reading,
    run_counts,
    search_dossiers,
)
from api.http.ui.render import page
from api.http.ui.route import PageNotFound, UiRoute
from archive.cases import court_today
from archive.catalog.models import Dossier
from archive.register.model import Month, RegisterTable, register_notes
from integrity.alerts.catalog import list_alerts
from standards.errors import BadInput

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=UiRoute)
router.include_router(auth.router)
Viewer = auth.Viewer
PAGE_SIZE = 50
RESULTS_PAGE = 200
REGISTER_MONTHS = 6
SERIES = ("结案数", "已归档", "逾期未归档")
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get("")
def overview(request: Request, inst: Inst, who: Viewer) -> HTMLResponse:
    with inst.sessions() as session:
        ov = read_overview(session, inst.settings, _now())
    hide = not sees_secondary(who.role)
    last = run_counts(ov.last_finished) if ov.last_finished else {}
    context = {
        "ov": ov,
        "last_counts": views.counts_line(last) if ov.last_finished else None,
        "incidents": [
            (r.run_id, r.id, r.check, views.result_key(r.object_key, hide_secondary=hide))
            for r in ov.incidents
        ],
        "alerts": [alert_views.alert_line(a, hide_secondary=hide) for a in ov.latest_alerts],
    }
    return page(request, "overview.j2", context, who=who)


@router.get("/dossiers")
def dossiers(
    request: Request,
    inst: Inst,
    who: Viewer,
    case_number: Annotated[str, Query(max_length=64)] = "",
    department: Annotated[str, Query(max_length=128)] = "",
    year: Annotated[str, Query(max_length=8)] = "",
    offset: Offset = 0,
) -> HTMLResponse:
    form = {"case_number": case_number, "department": department, "year": year}
    error: str | None = None
    try:
        wanted_year = views.parse_year(year)
    except ValueError:
        wanted_year, error = None, f"年度应为四位数字（如 2024），收到「{year}」。"
    total, rows = 0, list[Dossier]()
    with inst.sessions() as session:
        choices = departments(session)
        if error is None:
            total, rows = search_dossiers(
                session,
                case_number=case_number,
                department=department,
                year=wanted_year,
                limit=PAGE_SIZE,
                offset=offset,
            )
    previous, following = views.page_window(total, offset, PAGE_SIZE)
    context = {
        "form": form,
        "departments": choices,
        "rows": rows,
        "show_secondary": sees_secondary(who.role),
        "total": total,
        "offset": offset,
        "previous": previous,
        "following": following,
        "error": error,
    }
    return page(request, "dossiers.j2", context, who=who, status_code=400 if error else 200)


@router.get("/dossiers/{archive_id}")
def dossier(request: Request, archive_id: str, inst: Inst, who: Viewer) -> HTMLResponse:
    with inst.sessions() as session:
        found = read_dossier(session, archive_id)
    if found is None:
        raise PageNotFound(
            f"dossier {archive_id[:80]!r}: not archived",
            notice=f"未找到卷宗「{archive_id[:80]}」：没有以此档案号或案号归档的卷宗。",
        )
    show = sees_secondary(who.role)
    groups = views.group_documents(found.documents, show_secondary=show)
    summaries = {
        stage: views.report_summary(stored.id, stored.report, hide_secondary=not show)
        for stage, stored in (("GD", found.gd_report), ("BC", found.bc_report))
        if stored is not None
    }
    context = {
        "d": found.dossier,
        "groups": groups,
        "shown_count": sum(len(g.documents) for g in groups),
        "shown_bytes": sum(g.total_bytes for g in groups),
        "show_secondary": show,
        "reports": summaries,
        "report_error": found.report_error,
        "proof": found.proof,
    }
    return page(request, "dossier.j2", context, who=who)


@router.get("/audits")
def audits(request: Request, inst: Inst, who: Viewer, offset: Offset = 0) -> HTMLResponse:
    with inst.sessions() as session:
        total, runs = list_runs(session, limit=PAGE_SIZE, offset=offset)
    rows = [(run, views.counts_line(run_counts(run))) for run in runs]
    previous, following = views.page_window(total, offset, PAGE_SIZE)
    context = {"rows": rows, "total": total, "previous": previous, "following": following}
    return page(request, "audits.j2", context, who=who)


def _no_run(run_id: str) -> PageNotFound:
    return PageNotFound(f"audit run {run_id[:80]!r}: not found", notice=f"未找到审计批次「{run_id[:80]}」。")


@router.get("/audits/{run_id}")
def audit_run(
    request: Request, run_id: str, inst: Inst, who: Viewer, outcome: str = "", offset: Offset = 0
) -> HTMLResponse:
    if outcome and outcome not in OUTCOMES:
        raise BadInput(f"outcome: expected one of {', '.join(OUTCOMES)}; found {outcome[:20]!r}")
    with inst.sessions() as session:
        found = read_run(session, run_id, outcome=outcome or None, limit=RESULTS_PAGE, offset=offset)
    if found is None:
        raise _no_run(run_id)
    hide = not sees_secondary(who.role)
    rows = [(r.id, r.result, views.result_key(r.result.key, hide_secondary=hide)) for r in found.results]
    previous, following = views.page_window(found.total, offset, RESULTS_PAGE)
    context = {
        "run": found.run,
        "counts": views.counts_line(run_counts(found.run)),
        "by_outcome": found.by_outcome,
        "outcome": outcome,
        "rows": rows,
        "total": found.total,
        "previous": previous,
        "following": following,
    }
    return page(request, "audit_run.j2", context, who=who)


@router.get("/audits/{run_id}/results/{result_id}")
def audit_result(request: Request, run_id: str, result_id: int, inst: Inst, who: Viewer) -> HTMLResponse:
    with inst.sessions() as session:
        found = read_result(session, run_id, result_id)
    if found is None:
        raise PageNotFound(
            f"audit result {result_id} of run {run_id[:80]!r}: not found",
            notice=f"审计批次「{run_id[:80]}」中没有编号为 {result_id} 的检查结果。",
        )
    run, row = found
    hide = not sees_secondary(who.role)
    context = {
        "run": run,
        "row": row,
        "key": views.result_key(row.result.key, hide_secondary=hide),
        "lines": views.evidence_lines(row.result, hide_secondary=hide),
    }
    return page(request, "audit_result.j2", context, who=who)


@router.get("/alerts")
def alerts(
    request: Request,
    inst: Inst,
    who: Viewer,
    state: Annotated[str, Query(max_length=16)] = "",
    kind: Annotated[str, Query(max_length=32)] = "",
    offset: Offset = 0,
) -> HTMLResponse:
    try:
        wanted_state, wanted_kind = alert_views.parse_state(state), alert_views.parse_kind(kind)
    except ValueError as error:
        raise BadInput(str(error)) from None
    with inst.sessions() as session, reading("alerts"):
        total, rows = list_alerts(
            session,
            acknowledged=alert_views.STATES[wanted_state],
            kind=wanted_kind,
            limit=PAGE_SIZE,
            offset=offset,
        )
        hide = not sees_secondary(who.role)
        lines = [alert_views.alert_line(r, hide_secondary=hide) for r in rows]
    previous, following = views.page_window(total, offset, PAGE_SIZE)
    context = {
        "lines": lines,
        "total": total,
        "state": wanted_state,
        "kind": wanted_kind or "",
        "states": alert_views.STATE_NAMES,
        "kinds": alert_views.KIND_NAMES,
        "previous": previous,
        "following": following,
    }
    return page(request, "alerts.j2", context, who=who)


# ------------------------------------------------------------------ 台账
def _months(first: str, last: str, now: dt.datetime) -> tuple[Month, Month]:
    """The register's range: ``to`` defaults to this month (UTC+8), ``from`` to five months before it."""
    end = Month.parse(last) if last else Month.of(court_today(now))
    if first:
        return Month.parse(first), end
    start = end
    for _ in range(REGISTER_MONTHS - 1):
        start = Month(start.year - 1, 12) if start.month == 1 else Month(start.year, start.month - 1)
    return start, end


def _register(inst: Inst, first: str, last: str) -> RegisterTable:
    now = _now()
    start, end = _months(first, last, now)
    with inst.sessions() as session:
        return read_register(session, inst.settings, start, end, now)


FromMonth = Annotated[str, Query(alias="from", max_length=7)]
ToMonth = Annotated[str, Query(alias="to", max_length=7)]


@router.get("/register")
def register(
    request: Request, inst: Inst, who: Viewer, first: FromMonth = "", last: ToMonth = ""
) -> HTMLResponse:
    table = _register(inst, first, last)
    totals = [(m, table.total_of(m)) for m in table.months]
    chart = bar_chart([(m, (t.closed, t.archived, t.overdue_open)) for m, t in totals], SERIES)
    span = {"from": table.months[0], "to": table.months[-1]}
    context = {
        "table": table,
        "chart": chart,
        "span": span,
        "query": f"from={span['from']}&to={span['to']}",
        "notes": register_notes(table),
    }
    return page(request, "register.j2", context, who=who)


def _download(data: bytes, media_type: str, name: str) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(data, media_type=media_type, headers=headers)


@router.get("/register.xlsx")
def register_xlsx(inst: Inst, who: Viewer, first: FromMonth = "", last: ToMonth = "") -> Response:
    from archive.register.export_xlsx import register_xlsx as render  # openpyxl only when asked

    table = _register(inst, first, last)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(render(table), media, f"register-{table.months[0]}_{table.months[-1]}.xlsx")


@router.get("/register.pdf")
def register_pdf(inst: Inst, who: Viewer, first: FromMonth = "", last: ToMonth = "") -> Response:
    from archive.register.export_pdf import register_pdf as render  # reportlab only when asked

    table = _register(inst, first, last)
    return _download(render(table), "application/pdf", f"register-{table.months[0]}_{table.months[-1]}.pdf")
