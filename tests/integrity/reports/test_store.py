"""Detection reports in the catalog: save, load, the latest by id, and refusing a corrupted row."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from archive.catalog.models import DetectionReportRow
from integrity.checks.model import DetectionReport
from integrity.reports.store import MalformedReport, find_latest_report, load_report, save_report


def test_saved_report_loads_back_equal_with_its_ids(db_session: Session, report: DetectionReport) -> None:
    rid = save_report(db_session, report, case_number=report.subject, archive_id="ED-1", submission_id="s-1")
    db_session.expire_all()
    stored = load_report(db_session, rid)
    assert stored is not None
    assert stored.report == report
    assert (stored.case_number, stored.archive_id, stored.submission_id) == (report.subject, "ED-1", "s-1")
    header = stored.header()
    assert header.report_id == rid
    assert header.stage_name == "归档"
    row = db_session.get(DetectionReportRow, rid)
    assert row is not None
    assert row.passed is False


def test_find_latest_report_prefers_the_newest_for_each_kind_of_id(
    db_session: Session, report: DetectionReport
) -> None:
    older = save_report(
        db_session, report, case_number="(2024)京0105民初1号", archive_id="ED-1", submission_id="s-1"
    )
    newer_report = dataclasses.replace(report, created_at=report.created_at + dt.timedelta(days=1))
    newer = save_report(db_session, newer_report, case_number="(2024)京0105民初1号", archive_id="ED-1")
    for query in ("(2024)京0105民初1号", "ED-1"):
        found = find_latest_report(db_session, query)
        assert found is not None
        assert found.id == newer
    by_submission = find_latest_report(db_session, "s-1")
    by_id = find_latest_report(db_session, older)
    assert by_submission is not None
    assert by_id is not None
    assert by_submission.id == by_id.id == older
    assert find_latest_report(db_session, "nothing") is None
    assert find_latest_report(db_session, "  ") is None


def test_load_report_refuses_a_row_whose_json_was_tampered(
    db_session: Session, report: DetectionReport
) -> None:
    rid = save_report(db_session, report)
    tampered = report.as_dict() | {"passed": True}
    db_session.execute(
        update(DetectionReportRow)
        .where(DetectionReportRow.id == rid)
        .values(report_json=json.dumps(tampered))
    )
    db_session.expire_all()
    with pytest.raises(MalformedReport, match=r"report\.passed"):
        load_report(db_session, rid)
