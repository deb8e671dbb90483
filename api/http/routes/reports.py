"""Detection reports (DA/T 70-2018 检测报告) over HTTP, as JSON, HTML or PDF.

``GET /api/v1/reports/{report_id}`` renders one stored report; ``GET /api/v1/dossiers/{archive_id}/report``
the latest report filed under a dossier (archive id or 案号): its GD report from ingest, or the BC
report of a later full audit. Storing is :mod:`integrity.reports.store`'s, rendering
:mod:`integrity.reports`' (the same as ``edossier report``). A report holds item results and
evidence, never document content, so every reader role may have it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from api.http.deps import READERS, Inst, allow
from api.http.errors import NotFound
from archive.catalog import queries
from archive.catalog.errors import DatabaseUnavailable
from archive.tokens import Principal
from integrity.reports.render_html import render_html
from integrity.reports.render_json import render_json
from integrity.reports.store import StoredReport, find_latest_report, load_report
from standards.errors import BadInput

router = APIRouter(prefix="/api/v1", tags=["reports"])
Reader = Annotated[Principal, Depends(allow(*READERS))]


class ReportNotFound(BadInput):
    """No detection report has this id, or none is filed under the dossier."""

    code = "report_not_found"


class ReportFormat(StrEnum):
    json = "json"
    html = "html"
    pdf = "pdf"


MEDIA_TYPES: dict[ReportFormat, str] = {
    ReportFormat.json: "application/json",
    ReportFormat.html: "text/html; charset=utf-8",
    ReportFormat.pdf: "application/pdf",
}
#: The 200 answer in the OpenAPI document: one media type per format.
RENDERED: dict[int | str, dict[str, Any]] = {
    200: {"description": "The report", "content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()}}
}
Format = Annotated[ReportFormat, Query(alias="format", description="json (default), html or pdf")]


def render(stored: StoredReport, fmt: ReportFormat) -> Response:
    """The report in ``fmt`` as a response (PDF as an attachment named after the report id).

    Raises:
        ReportFontMissing, ReportFontUnsupported: PDF only — no usable CJK TrueType font (500).
    """
    header = stored.header()
    headers: dict[str, str] = {}
    if fmt is ReportFormat.pdf:
        from integrity.reports.render_pdf import render_pdf  # reportlab is imported only for PDF

        data = render_pdf(stored.report, header)
        headers["Content-Disposition"] = f'attachment; filename="report-{stored.id}.pdf"'
    elif fmt is ReportFormat.html:
        data = render_html(stored.report, header).encode("utf-8")
    else:
        data = render_json(stored.report, header).encode("utf-8")
    return Response(data, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get(
    "/reports/{report_id}",
    response_class=Response,
    responses=RENDERED,
    summary="One stored detection report (检测报告) as JSON, HTML or PDF",
)
def report(report_id: str, inst: Inst, who: Reader, fmt: Format = ReportFormat.json) -> Response:
    try:
        with inst.sessions() as session:
            stored = load_report(session, report_id)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"report: {type(exc).__name__}") from exc
    if stored is None:
        raise ReportNotFound(f"report {report_id!r}: no such detection report")
    return render(stored, fmt)


@router.get(
    "/dossiers/{archive_id}/report",
    response_class=Response,
    responses=RENDERED,
    tags=["dossiers"],
    summary="The latest detection report of a dossier (by archive id or 案号)",
)
def dossier_report(archive_id: str, inst: Inst, who: Reader, fmt: Format = ReportFormat.json) -> Response:
    try:
        with inst.sessions() as session:
            dossier = queries.find_dossier(session, archive_id)
            if dossier is None:
                raise NotFound(f"dossier {archive_id!r}: not archived")
            stored = find_latest_report(session, dossier.archive_id)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"dossier report: {type(exc).__name__}") from exc
    if stored is None:
        raise ReportNotFound(f"dossier {dossier.archive_id}: no detection report filed")
    return render(stored, fmt)
