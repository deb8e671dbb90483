"""Detection reports over HTTP: a dossier's latest report and one report by id, as JSON, HTML and PDF."""

from __future__ import annotations

from typing import Any

import pytest

from integrity.reports.store import report_from_json
from tests.api.http.conftest import Served


def _json(served: Served, url: str, role: str = "auditor") -> dict[str, Any]:
    response = served.client.get(url, headers=served.headers(role))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def test_a_dossier_report_is_its_ingest_report_found_by_archive_id_or_case_number(served: Served) -> None:
    by_id = _json(served, f"/api/v1/dossiers/{served.archive_id}/report")
    assert by_id["header"]["archive_id"] == served.archive_id
    assert by_id["report"]["stage"] == "GD" and by_id["report"]["passed"] is True
    report_from_json(by_id)  # the stored report, rebuilt with its consistency checks
    by_case = _json(served, f"/api/v1/dossiers/{served.case_number}/report")
    assert by_case == by_id


def test_a_report_by_id_is_the_same_document(served: Served) -> None:
    latest = _json(served, f"/api/v1/dossiers/{served.archive_id}/report")
    report_id = latest["header"]["report_id"]
    assert _json(served, f"/api/v1/reports/{report_id}", role="archivist") == latest


def test_html_report_is_a_page_with_its_items(served: Served) -> None:
    response = served.client.get(
        f"/api/v1/dossiers/{served.archive_id}/report?format=html", headers=served.headers("auditor")
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<html" in response.text and "GD-1-1" in response.text and served.case_number in response.text


def test_pdf_report_is_an_attachment(served: Served) -> None:
    latest = _json(served, f"/api/v1/dossiers/{served.archive_id}/report")
    report_id = latest["header"]["report_id"]
    response = served.client.get(f"/api/v1/reports/{report_id}?format=pdf", headers=served.headers("admin"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="report-{report_id}.pdf"'
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/v1/reports/no-such-report", 404, "report_not_found"),
        ("/api/v1/dossiers/ED-0000-nothing/report", 404, "not_found"),
        ("/api/v1/dossiers/{archive_id}/report?format=docx", 422, "request_invalid"),
    ],
)
def test_missing_reports_and_bad_formats_answer_in_the_one_error_shape(
    served: Served, url: str, status: int, code: str
) -> None:
    response = served.client.get(url.format(archive_id=served.archive_id), headers=served.headers("auditor"))
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"code", "message", "status"} and (error["code"], error["status"]) == (code, status)
