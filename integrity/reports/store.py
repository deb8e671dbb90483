"""Save and load detection reports in the catalog table ``detection_reports`` (models.DetectionReportRow).

The row keeps :meth:`DetectionReport.as_dict` as JSON text plus the columns a report is found by
(report id, submission id, archive id, 案号). Helpers here ``flush`` and never commit: the service
that runs the detection owns the transaction (STYLE: one service owns a transaction).
:func:`report_from_json` rebuilds the dataclasses and refuses a document whose stored ``passed`` or
``counts`` disagree with its results (a hand-edited or corrupted report).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.catalog.models import DetectionReportRow
from integrity.checks.model import STAGES, DetectionReport, Evidence, ItemResult, Stage, Status
from integrity.reports.header import ReportHeader, header_for
from standards.errors import BadInput
from standards.problems import Problem


class MalformedReport(BadInput):
    """A stored or supplied report document is not a detection report this code can rebuild."""

    code = "malformed_report"


@dataclass(frozen=True)
class StoredReport:
    """A report as kept in the catalog, with the ids it was filed under."""

    id: str
    report: DetectionReport
    case_number: str | None
    archive_id: str | None
    submission_id: str | None

    def header(self) -> ReportHeader:
        return header_for(
            self.report,
            report_id=self.id,
            case_number=self.case_number,
            archive_id=self.archive_id,
            submission_id=self.submission_id,
        )


# ---------------------------------------------------------------- JSON → dataclasses
def _get(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in doc:
        raise MalformedReport(f"{where}.{key}: expected a value; found none")
    value = doc[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedReport(f"{where}.{key}: expected {kind}; found {type(value).__name__}")
    return value


def _result(doc: Any, where: str) -> ItemResult:
    if not isinstance(doc, dict):
        raise MalformedReport(f"{where}: expected an object; found {type(doc).__name__}")
    try:
        evidence = tuple(
            Evidence(read=str(e["read"]), expected=str(e["expected"]), found=str(e["found"]))
            for e in _get(doc, "evidence", list, where)
        )
        problems = tuple(
            Problem(
                code=str(p["code"]),
                message=str(p["message"]),
                item=p.get("item"),
                path=p.get("path"),
                line=p.get("line"),
            )
            for p in _get(doc, "problems", list, where)
        )
        return ItemResult(
            item=_get(doc, "item", str, where),
            status=cast(Status, _get(doc, "status", str, where)),
            summary=_get(doc, "summary", str, where),
            evidence=evidence,
            problems=problems,
            reason=doc.get("reason"),
            checklist=doc.get("checklist"),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise MalformedReport(
            f"{where}: expected evidence/problem objects; found a bad entry ({error})"
        ) from None
    except ValueError as error:  # ItemResult's own invariants (status, reason, checklist)
        raise MalformedReport(f"{where}: {error}") from None


def report_from_json(text: str | bytes | dict[str, Any]) -> DetectionReport:
    """Rebuild a :class:`DetectionReport` from ``as_dict()`` JSON (or a rendered ``{"header", "report"}``).

    Raises:
        MalformedReport: not JSON, a missing or mistyped field, an unknown stage or status, a naive
            time, or stored ``passed``/``counts`` that disagree with the results.
    """
    if isinstance(text, dict):
        doc: Any = text
    else:
        try:
            doc = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise MalformedReport(f"report: expected JSON; found invalid text ({error})") from None
    if isinstance(doc, dict) and isinstance(doc.get("report"), dict) and "header" in doc:
        doc = doc["report"]  # the render_json form
    if not isinstance(doc, dict):
        raise MalformedReport(f"report: expected an object; found {type(doc).__name__}")
    stage = _get(doc, "stage", str, "report")
    if stage not in STAGES:
        raise MalformedReport(f"report.stage: expected one of {STAGES}; found {stage!r}")
    try:
        created = dt.datetime.fromisoformat(_get(doc, "created_at", str, "report"))
    except ValueError:
        raise MalformedReport("report.created_at: expected an ISO 8601 time; found another text") from None
    if created.tzinfo is None:
        raise MalformedReport("report.created_at: expected a time with a UTC offset; found a naive time")
    position = doc.get("ledger_position")
    if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
        raise MalformedReport(f"report.ledger_position: expected an integer; found {position!r}")
    results = tuple(
        _result(r, f"report.results[{i}]") for i, r in enumerate(_get(doc, "results", list, "report"))
    )
    report = DetectionReport(
        stage=cast(Stage, stage),
        subject=_get(doc, "subject", str, "report"),
        created_at=created,
        results=results,
        tool_version=str(doc.get("tool_version") or ""),
        ledger_position=position,
    )
    if "passed" in doc and doc["passed"] != report.passed:
        raise MalformedReport(
            f"report.passed: expected {report.passed} from the results; found {doc['passed']!r}"
        )
    if "counts" in doc and doc["counts"] != report.counts():
        raise MalformedReport(
            f"report.counts: expected {report.counts()} from the results; found {doc['counts']!r}"
        )
    return report


# ---------------------------------------------------------------- catalog
def save_report(
    session: Session,
    report: DetectionReport,
    *,
    case_number: str | None = None,
    archive_id: str | None = None,
    submission_id: str | None = None,
    report_id: str | None = None,
) -> str:
    """Add ``report`` to the session and flush; returns its id (a new uuid4 unless given). Never commits.

    Raises:
        sqlalchemy.exc.IntegrityError: ``report_id`` is already taken (raised by the flush).
    """
    rid = report_id or str(uuid.uuid4())
    session.add(
        DetectionReportRow(
            id=rid,
            stage=report.stage,
            subject=report.subject,
            case_number=case_number,
            archive_id=archive_id,
            submission_id=submission_id,
            created_at=report.created_at,
            passed=report.passed,
            report_json=json.dumps(report.as_dict(), ensure_ascii=False),
        )
    )
    session.flush()
    return rid


def _stored(row: DetectionReportRow) -> StoredReport:
    return StoredReport(
        id=row.id,
        report=report_from_json(row.report_json),
        case_number=row.case_number,
        archive_id=row.archive_id,
        submission_id=row.submission_id,
    )


def load_report(session: Session, report_id: str) -> StoredReport | None:
    """The report with this id, or None.

    Raises:
        MalformedReport: the stored JSON cannot be rebuilt.
    """
    row = session.get(DetectionReportRow, report_id)
    return _stored(row) if row is not None else None


def find_latest_report(session: Session, query: str) -> StoredReport | None:
    """The report whose id is ``query``; else the latest filed under that submission id, archive id or 案号.

    Raises:
        MalformedReport: the stored JSON cannot be rebuilt.
    """
    key = query.strip()
    if not key:
        return None
    exact = load_report(session, key)
    if exact is not None:
        return exact
    row = session.scalars(
        select(DetectionReportRow)
        .where(
            or_(
                DetectionReportRow.submission_id == key,
                DetectionReportRow.archive_id == key,
                DetectionReportRow.case_number == key,
            )
        )
        .order_by(DetectionReportRow.created_at.desc(), DetectionReportRow.id.desc())
        .limit(1)
    ).first()
    return _stored(row) if row is not None else None
