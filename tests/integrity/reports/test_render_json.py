"""JSON form of a detection report: round trip, the stored-format vector, and refused documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrity.checks.model import DetectionReport
from integrity.reports.header import header_for
from integrity.reports.render_json import render_json
from integrity.reports.store import MalformedReport, report_from_json

DATA = Path(__file__).parent / "data"
INVALID = sorted((DATA / "invalid").glob("*.json"))


def test_render_json_round_trips_to_an_equal_report(report: DetectionReport) -> None:
    text = render_json(report, header_for(report, report_id="r-1", case_number=report.subject))
    assert report_from_json(text) == report


def test_render_json_keeps_chinese_as_characters_and_carries_the_header(report: DetectionReport) -> None:
    text = render_json(report, header_for(report, archive_id="ED-2024-0001"))
    assert "说明文件声明 12 件" in text
    assert "\\u" not in text
    doc = json.loads(text)
    assert doc["header"]["stage_name"] == "归档"
    assert doc["header"]["archive_id"] == "ED-2024-0001"
    assert doc["header"]["ledger_position"] == 41
    assert doc["report"]["passed"] is False
    assert [r["item"] for r in doc["report"]["results"]] == [r.item for r in report.results]


def test_stored_format_vector_rebuilds_the_fixture_report(report: DetectionReport) -> None:
    # Guards the stored format against drift: rows written by an older build must still load.
    text = (DATA / "valid" / "gd_mixed_statuses.json").read_text(encoding="utf-8")
    assert report_from_json(text) == report


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_report_from_json_refuses_mutated_document(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    expected = doc.pop("_expected_error")
    assert expected["class"] == "MalformedReport"
    with pytest.raises(MalformedReport, match=expected["match"]):
        report_from_json(doc)


def test_report_from_json_refuses_text_that_is_not_json() -> None:
    with pytest.raises(MalformedReport, match="expected JSON"):
        report_from_json("{not json")
