"""The case ledger (案件台账) over HTTP: the closed-cases feed of the case management system, overdue archiving.

``POST /api/v1/cases`` takes the closed cases as the request body — a JSON array (or
``{"cases": [...]}``, ``Content-Type: application/json``) or a CSV with a header row (``text/csv``;
UTF-8, UTF-16 with BOM or GB18030) — parses them with :mod:`archive.cases` and upserts them by 案号.
**All or nothing**: when any row has a problem nothing is imported and the error answer
(``cases_rejected``) lists every problem (row, field, Chinese message), so the sender fixes the feed
and sends it again whole. Cases whose dossier is archived already are linked to it.
``GET /api/v1/cases/overdue`` lists the closed cases not archived ``settings.archiving_deadline_days``
after 结案日期 (结案后逾期未归档), most overdue first.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.exc import SQLAlchemyError

from api.http.deps import READERS, Inst, allow
from api.wiring import Installation
from archive.cases import (
    CasesFileTooLarge,
    ParsedCases,
    court_today,
    import_cases,
    overdue_cases,
    parse_cases,
    parse_cases_csv,
    parse_cases_json,
    refresh_archived,
)
from archive.catalog.errors import DatabaseUnavailable
from archive.tokens import Principal
from standards.errors import BadInput
from standards.limits import Limits

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
Reader = Annotated[Principal, Depends(allow(*READERS))]
Feeder = Annotated[Principal, Depends(allow("submitter", "archivist", "admin"))]
#: Row problems spelled out in the error message (all are counted).
MAX_LISTED_PROBLEMS = 100


#: One closed case as the JSON feed sends it (English keys case_number, court, department, judge and
#: closing_date are accepted too; the rules beyond this shape are :mod:`archive.cases`').
CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["案号", "承办部门", "承办人", "结案日期"],
    "properties": {
        "案号": {"type": "string", "minLength": 1, "maxLength": 64, "examples": ["（2024）京0105民初1001号"]},
        "法院": {"type": ["string", "null"], "maxLength": 128},
        "承办部门": {"type": "string", "minLength": 1, "maxLength": 128},
        "承办人": {"type": "string", "minLength": 1, "maxLength": 64},
        "结案日期": {"type": "string", "format": "date"},
    },
}
FEED_SCHEMA: dict[str, Any] = {"type": "array", "minItems": 1, "items": CASE_SCHEMA}


class CasesRejected(BadInput):
    """Some rows of the feed have problems; nothing was imported (the message lists them)."""

    code = "cases_rejected"


def parse_feed(data: bytes, content_type: str | None, today: dt.date, limits: Limits) -> ParsedCases:
    """Parse the body by its media type: JSON, CSV (``text/csv``, ``text/plain``), else by its content.

    Raises:
        CasesFileError: the body as a whole cannot be read (see :mod:`archive.cases`).
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return parse_cases_json(data, today=today, limits=limits)
    if media in ("text/csv", "text/plain", "text/tab-separated-values"):
        return parse_cases_csv(data, today=today, limits=limits)
    return parse_cases(data, name="", today=today, limits=limits)


def rejection(parsed: ParsedCases) -> CasesRejected:
    """The error naming every row problem (the first :data:`MAX_LISTED_PROBLEMS`, then a count)."""
    listed = "; ".join(f"{p.message} [{p.code}]" for p in parsed.problems[:MAX_LISTED_PROBLEMS])
    more = len(parsed.problems) - MAX_LISTED_PROBLEMS
    tail = f"; … and {more} more" if more > 0 else ""
    return CasesRejected(
        f"cases: {len(parsed.problems)} problem(s) in {parsed.rows} row(s), nothing imported: {listed}{tail}"
    )


def parse_and_import(
    inst: Installation, data: bytes, content_type: str | None, source: str, now: dt.datetime
) -> dict[str, Any]:
    """Parse the feed and upsert it in one transaction (blocking: runs on a worker thread).

    Raises:
        CasesFileError: the body as a whole cannot be read.
        CasesRejected: some rows have problems (nothing is written).
        DatabaseUnavailable: the database failed.
    """
    parsed = parse_feed(data, content_type, court_today(now), inst.settings.limits)
    if not parsed.ok:
        raise rejection(parsed)
    try:
        with inst.write_sessions() as session, session.begin():
            result = import_cases(session, parsed, source=source, now=now)
            linked = refresh_archived(session)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"case import: {type(exc).__name__}") from exc
    return {
        "status": "imported",
        "rows": parsed.rows,
        "encoding": parsed.encoding,
        "added": list(result.added),
        "updated": list(result.updated),
        "unchanged": list(result.unchanged),
        "linked": linked,
    }


@router.post(
    "",
    summary="Closed cases from the case management system (JSON array or CSV); all or nothing",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": FEED_SCHEMA},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def feed(request: Request, inst: Inst, who: Feeder) -> dict[str, Any]:
    limits = inst.settings.limits
    too_large = f"case feed: expected at most {limits.xml_bytes} bytes"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.xml_bytes:
        raise CasesFileTooLarge(f"{too_large}; Content-Length says {declared}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limits.xml_bytes:
            raise CasesFileTooLarge(f"{too_large}; found more")
    content_type, source = request.headers.get("content-type"), f"api:{who.token_id}"
    now = dt.datetime.now(dt.UTC)
    return await to_thread.run_sync(parse_and_import, inst, bytes(body), content_type, source, now)


@router.get(
    "/overdue", summary="Closed cases not archived within the deadline (逾期未归档), most overdue first"
)
def overdue(
    inst: Inst,
    who: Reader,
    days: Annotated[int | None, Query(ge=0, le=36500, description="default: archiving_deadline_days")] = None,
    today: Annotated[dt.date | None, Query(description="YYYY-MM-DD; default: today in UTC+8")] = None,
) -> dict[str, Any]:
    deadline_days = inst.settings.archiving_deadline_days if days is None else days
    day = today or court_today(dt.datetime.now(dt.UTC))
    if day.toordinal() <= deadline_days:  # no closing date lies before the calendar's first day
        return {"today": day.isoformat(), "deadline_days": deadline_days, "total": 0, "overdue": []}
    try:
        with inst.sessions() as session:
            found = overdue_cases(session, day, deadline_days)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"overdue cases: {type(exc).__name__}") from exc
    return {
        "today": day.isoformat(),
        "deadline_days": deadline_days,
        "total": len(found),
        "overdue": [c.as_dict() for c in found],
    }
