"""Every dashboard page as each reader sees it: content, 副卷 hidden from auditors, error pages, downloads."""

from __future__ import annotations

import pytest

from api.http.ui.views import REDACTED
from tests.api.http.ui.conftest import OVERDUE_CASE, SECONDARY_PATH, World

READERS = ("archivist", "auditor", "admin")


def _html(ui: World, path: str, status: int = 200) -> str:
    response = ui.client.get(path, follow_redirects=False)
    assert response.status_code == status, (path, response.status_code, response.text[:400])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


@pytest.mark.parametrize("role", READERS)
def test_every_page_answers_each_reader(ui: World, role: str) -> None:
    ui.login(role)
    paths = (
        "/ui",
        "/ui/dossiers",
        f"/ui/dossiers/{ui.served.archive_id}",
        "/ui/audits",
        f"/ui/audits/{ui.run_id}",
        f"/ui/audits/{ui.run_id}?outcome=incident",
        "/ui/alerts",
        "/ui/alerts?state=all&kind=incident",
        "/ui/register",
    )
    for path in paths:
        _html(ui, path)


def test_pages_carry_a_nonce_csp_and_no_caching(ui: World) -> None:
    ui.login("archivist")
    response = ui.client.get("/ui")

    policy = response.headers["content-security-policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert f'<style nonce="{nonce}">' in response.text
    assert response.headers["cache-control"] == "no-store" and response.headers["x-frame-options"] == "DENY"


def test_overview_shows_totals_last_audit_incidents_and_overdue_archiving(ui: World) -> None:
    ui.login("archivist")
    text = _html(ui, "/ui")

    assert 'id="dossier-count">1<' in text
    assert "发现完整性事件" in text and ui.run_id in text  # the failed fixity run
    assert ui.incident_key in text  # the incident, linked to its evidence
    assert OVERDUE_CASE in text and "逾期未归档案件" in text
    assert "最新签名检查点" in text


def test_dossier_page_groups_documents_by_volume_with_proof_and_report(ui: World) -> None:
    ui.login("archivist")
    text = _html(ui, f"/ui/dossiers/{ui.served.archive_id}")

    assert 'id="volume-正卷"' in text and 'id="volume-副卷"' in text
    assert text.index('id="volume-正卷"') < text.index('id="volume-副卷"')
    assert all(title in text for title in ui.primary_titles + ui.secondary_titles)
    assert '<span class="badge ok" id="proof-status">已验证</span>' in text
    assert 'id="report-GD"' in text and "归档环节（GD）" in text


def test_dossier_page_hides_the_secondary_volume_from_auditors(ui: World) -> None:
    ui.login("auditor")
    text = _html(ui, f"/ui/dossiers/{ui.served.archive_id}")

    assert 'id="volume-正卷"' in text and 'id="volume-副卷"' not in text
    assert all(title in text for title in ui.primary_titles)
    assert not any(title in text for title in ui.secondary_titles)
    assert "副卷不向审计员角色展示" in text


def test_dossier_list_hides_counts_that_include_the_secondary_volume_from_auditors(ui: World) -> None:
    ui.login("auditor")
    assert "文件数" not in _html(ui, "/ui/dossiers")
    ui.login("archivist")
    assert "文件数" in _html(ui, "/ui/dossiers")


def test_dossier_found_by_case_number_too(ui: World) -> None:
    ui.login("admin")
    assert ui.served.archive_id in _html(ui, f"/ui/dossiers/{ui.served.case_number}")


def test_unknown_dossier_is_the_404_page(ui: World) -> None:
    ui.login("archivist")
    text = _html(ui, "/ui/dossiers/ED-0000-nothing", 404)

    assert "404 · 未找到" in text and "ED-0000-nothing" in text and "返回概览" in text


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("", True),
        ("?case_number={part}", True),
        ("?case_number=%EF%BC%882099%EF%BC%89", False),
        ("?department={department}", True),
        ("?department=%E6%B2%A1%E6%9C%89", False),
        ("?year={year}", True),
        ("?year=1999", False),
    ],
    ids=["all", "case-part", "case-other", "department", "department-other", "year", "year-other"],
)
def test_dossier_search_by_case_number_department_and_year(ui: World, query: str, found: bool) -> None:
    ui.login("archivist")
    detail = ui.client.get(f"/api/v1/dossiers/{ui.served.archive_id}", headers=ui.served.headers("archivist"))
    d = detail.json()
    url = "/ui/dossiers" + query.format(
        part=d["case_number"][1:6], department=d["department"], year=d["year"]
    )
    text = _html(ui, url)

    assert (ui.served.archive_id in text) is found
    assert ("共 1 卷" in text) is found


def test_dossier_search_with_a_bad_year_says_so(ui: World) -> None:
    ui.login("archivist")
    assert "年度应为四位数字" in _html(ui, "/ui/dossiers?year=20x4", 400)


def test_audit_run_lists_the_incident_first_with_its_evidence(ui: World) -> None:
    ui.login("auditor")
    text = _html(ui, f"/ui/audits/{ui.run_id}")
    assert "发现完整性事件" in text
    first_row = text.split('<table id="results">')[1].split("</tr>")[1]
    assert ui.incident_key in first_row and "完整性事件" in first_row

    link = first_row.split('href="')[1].split('"')[0]
    evidence = _html(ui, link)
    assert "expected_sha256" in evidence and "found_sha256" in evidence and ui.incident_key in evidence


def test_audit_list_links_each_run(ui: World) -> None:
    ui.login("archivist")
    assert f'href="/ui/audits/{ui.run_id}"' in _html(ui, "/ui/audits")


@pytest.mark.parametrize(
    "path", ["/ui/audits/no-such-run", "/ui/audits/{run}/results/999999", "/ui/audits/other/results/1"]
)
def test_unknown_audit_run_or_result_is_the_404_page(ui: World, path: str) -> None:
    ui.login("archivist")
    assert "未找到" in _html(ui, path.format(run=ui.run_id), 404)


def test_bad_filters_are_the_400_page(ui: World) -> None:
    ui.login("archivist")
    for path in (f"/ui/audits/{ui.run_id}?outcome=bogus", "/ui/alerts?state=x", "/ui/register?from=2025-13"):
        assert "请求有误" in _html(ui, path, 400), path
    assert "请求有误" in _html(ui, "/ui/audits?offset=-1", 400)


def test_alerts_list_links_run_and_dossier(ui: World) -> None:
    ui.login("archivist")
    text = _html(ui, "/ui/alerts")

    assert SECONDARY_PATH in text and "完整性事件" in text
    assert f'href="/ui/audits/{ui.run_id}"' in text and f'href="/ui/dossiers/{ui.served.archive_id}"' in text


def test_alerts_naming_the_secondary_volume_are_redacted_for_auditors(ui: World) -> None:
    ui.login("auditor")
    text = _html(ui, "/ui/alerts")

    assert "副卷/" not in text and REDACTED in text
    assert "副卷/" not in _html(ui, "/ui")


def test_register_page_has_rows_chart_and_download_links(ui: World) -> None:
    ui.login("archivist")
    text = _html(ui, "/ui/register")

    assert '<svg class="chart" id="register-chart"' in text and "<rect" in text
    assert "合计" in text and "GD检测通过率" in text
    assert 'href="/ui/register.xlsx?from=' in text and 'href="/ui/register.pdf?from=' in text


def test_register_downloads_are_xlsx_and_pdf(ui: World) -> None:
    ui.login("auditor")
    xlsx = ui.client.get("/ui/register.xlsx")
    pdf = ui.client.get("/ui/register.pdf?from=2025-01&to=2025-02")

    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["content-disposition"]
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert 'filename="register-2025-01_2025-02.pdf"' in pdf.headers["content-disposition"]


def test_the_dashboard_is_not_in_the_api_schema(ui: World) -> None:
    paths = ui.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/ui")]
