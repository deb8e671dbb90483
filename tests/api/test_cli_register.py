"""``edossier register``: the monthly register from real ingests, case imports and an audit; exit codes 0/2/3.

One data directory (SQLite) holds: dossier A (刑事审判庭) archived 15 Jan 2025, a package of the
执行局 rejected 20 Jan 2025 (a content file changed after digesting), dossier B (民事审判第二庭)
archived 10 Feb 2025, a fixity audit on 20 Feb 2025, and a case ledger with a 2023 case never archived
and a case closed in January 2025. Times are given to the ingest service and the audit as their clock.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli_register import register
from api.wiring import initialise, open_installation
from archive.cases import court_today, import_cases, parse_cases_csv, refresh_archived
from archive.register.model import Month
from archive.sample import generate_sample
from archive.settings import Settings
from integrity.audit.runner import run_audit
from standards.limits import Limits

SAMPLE_NOW = dt.datetime(2025, 1, 2, 8, 0, tzinfo=dt.UTC)
ARCHIVED_A = dt.datetime(2025, 1, 15, 2, 0, tzinfo=dt.UTC)
REJECTED_C = dt.datetime(2025, 1, 20, 2, 0, tzinfo=dt.UTC)
ARCHIVED_B = dt.datetime(2025, 2, 10, 2, 0, tzinfo=dt.UTC)
AUDITED = dt.datetime(2025, 2, 20, 2, 0, tzinfo=dt.UTC)
OLD_CASE = "（2023）京0105民初9号"  # 民事审判第二庭, closed 2023-12-01, never archived
NEW_CASE = "（2025）京0105刑初5号"  # 刑事审判庭, closed 2025-01-08
DEADLINE_330 = {
    "EDOSSIER_ARCHIVING_DEADLINE_DAYS": "330"
}  # A (closed 2024-04-14) on time, B (2024-03-14) late


def _root() -> None:
    """edossier (test shell)."""


app = typer.Typer(pretty_exceptions_enable=False)
app.callback()(_root)
app.command("register")(register)  # as api/cli.py is asked to register it
runner = CliRunner()


def run(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["register", *[str(a) for a in args]], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_json(stdout: str) -> dict[str, Any]:
    value = json.loads(stdout)
    assert isinstance(value, dict)
    return value


def _at(moment: dt.datetime) -> Any:
    return lambda: moment


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("cli-register")
    settings = Settings(data_dir=root / "data")
    initialise(settings)
    inst = open_installation(settings)
    try:
        a = generate_sample(root / "a", seed=11, documents=2, now=SAMPLE_NOW)  # 刑事审判庭, closed 2024-04-14
        b = generate_sample(
            root / "b", seed=2, documents=2, now=SAMPLE_NOW
        )  # 民事审判第二庭, closed 2024-03-14
        c = generate_sample(root / "c", seed=13, documents=2, now=SAMPLE_NOW)  # 执行局, closed 2024-05-27
        changed = sorted((c.path / "正卷").iterdir())[0]
        changed.write_bytes(changed.read_bytes() + b"changed after digesting")
        service = inst.ingest_service()
        outcomes = {}
        for name, sample, moment in (("a", a, ARCHIVED_A), ("c", c, REJECTED_C), ("b", b, ARCHIVED_B)):
            service.clock = _at(moment)
            outcomes[name] = service.ingest(sample.path)
        assert outcomes["a"].status == outcomes["b"].status == "archived"
        assert outcomes["c"].status == "rejected" and outcomes["c"].case_number == c.case_number
        report = (
            "案号,承办部门,承办人,结案日期\n"
            f"{a.case_number},刑事审判庭,张伟,2024-04-14\n"
            f"{b.case_number},民事审判第二庭,李娜,2024-03-14\n"
            f"{c.case_number},执行局,王芳,2024-05-27\n"
            f"{OLD_CASE},民事审判第二庭,李娜,2023-12-01\n"
            f"{NEW_CASE},刑事审判庭,张伟,2025-01-08\n"
        )
        parsed = parse_cases_csv(report.encode(), today=dt.date(2025, 3, 1), limits=Limits())
        assert parsed.ok, parsed.problems
        with inst.write_sessions() as session, session.begin():
            import_cases(session, parsed, source="cases.csv", now=AUDITED)
            refresh_archived(session)
        summary = run_audit(inst, "fixity", AUDITED, alert=False)
        assert summary.status == "passed"
    finally:
        inst.close()
    return {"data": settings.data_dir}


def _months(stdout: str) -> dict[str, dict[str, dict[str, Any]]]:
    shape = one_json(stdout)
    return {
        m["month"]: {**{r["department"]: r for r in m["rows"]}, "合计": m["total"]} for m in shape["months"]
    }


def _counts(row: dict[str, Any]) -> tuple[int, ...]:
    names = ("closed", "archived", "archived_on_time", "archived_late", "overdue_open")
    return tuple(row[n] for n in (*names, "submissions_passed", "submissions_rejected"))


def test_register_counts_closing_archiving_overdue_and_detection_by_month_and_department(
    catalog: dict[str, Any],
) -> None:
    code, stdout, _ = run(
        "--from", "2025-01", "--to", "2025-02", "--json", "--data-dir", catalog["data"], env=DEADLINE_330
    )

    assert code == 0
    months = _months(stdout)
    assert list(months) == ["2025-01", "2025-02"]
    january, february = months["2025-01"], months["2025-02"]
    assert list(january) == ["刑事审判庭", "执行局", "民事审判第二庭", "合计"]  # by code point, total last
    #                                     closed archived on_time late overdue passed rejected
    assert _counts(january["刑事审判庭"]) == (1, 1, 1, 0, 0, 1, 0)
    assert _counts(january["执行局"]) == (0, 0, 0, 0, 0, 0, 1)
    assert _counts(january["民事审判第二庭"]) == (0, 0, 0, 0, 1, 0, 0)
    assert _counts(january["合计"]) == (1, 1, 1, 0, 1, 1, 1)
    assert _counts(february["民事审判第二庭"]) == (0, 1, 0, 1, 1, 1, 0)
    assert _counts(february["合计"]) == (0, 1, 0, 1, 1, 1, 0)
    assert january["合计"]["detection_pass_rate"] == 0.5
    assert january["执行局"]["detection_pass_rate"] == 0.0
    assert one_json(stdout)["deadline_days"] == 330


def test_audit_coverage_counts_verifications_before_the_end_of_each_month(catalog: dict[str, Any]) -> None:
    code, stdout, _ = run("--from", "2025-01", "--to", "2025-02", "--json", "--data-dir", catalog["data"])

    assert code == 0
    months = _months(stdout)
    january, february = months["2025-01"]["刑事审判庭"], months["2025-02"]["刑事审判庭"]
    assert january["objects_stored"] >= 5  # manifest + 2 content + 2 metadata blobs
    assert (january["objects_verified"], january["audit_coverage"]) == (0, 0.0)  # audited on 20 Feb
    assert february["objects_verified"] == february["objects_stored"] == january["objects_stored"]
    assert february["audit_coverage"] == 1.0
    assert months["2025-02"]["合计"]["audit_coverage"] == 1.0
    assert months["2025-01"]["执行局"]["audit_coverage"] is None  # nothing stored


def test_default_deadline_of_90_days_makes_both_archivings_late(catalog: dict[str, Any]) -> None:
    code, stdout, _ = run("--from", "2025-01", "--to", "2025-02", "--json", "--data-dir", catalog["data"])

    months = _months(stdout)
    assert code == 0
    assert one_json(stdout)["deadline_days"] == 90
    assert _counts(months["2025-01"]["刑事审判庭"])[1:4] == (1, 0, 1)
    assert months["2025-01"]["执行局"]["overdue_open"] == 1  # closed 2024-05-27, rejected, not archived


def test_xlsx_and_pdf_exports_are_written(catalog: dict[str, Any], tmp_path: Path) -> None:
    xlsx, pdf = tmp_path / "台账.xlsx", tmp_path / "台账.pdf"

    code, stdout, _ = run(
        "--from",
        "2025-01",
        "--to",
        "2025-02",
        "--json",
        "--xlsx",
        xlsx,
        "--pdf",
        pdf,
        "--data-dir",
        catalog["data"],
        env=DEADLINE_330,
    )

    assert code == 0
    assert (one_json(stdout)["xlsx"], one_json(stdout)["pdf"]) == (str(xlsx), str(pdf))
    sheet = load_workbook(io.BytesIO(xlsx.read_bytes()))["台账"]
    listed = [(row[0], row[1]) for row in sheet.iter_rows(min_row=2, values_only=True) if row[1]]
    assert ("2025-01", "刑事审判庭") in listed and ("2025-02", "合计") in listed
    assert pdf.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True)
        assert "民事审判第二庭" in text.stdout.decode("utf-8")


def test_table_for_people_names_each_month_and_department(catalog: dict[str, Any]) -> None:
    code, stdout, _ = run("--from", "2025-01", "--to", "2025-01", "--data-dir", catalog["data"])

    assert code == 0
    assert "归档台账 2025-01" in stdout
    assert "刑事审判庭" in stdout and "合计" in stdout and "50.0%" in stdout


def test_months_default_to_the_current_month_in_china_standard_time(catalog: dict[str, Any]) -> None:
    before = Month.of(court_today(dt.datetime.now(dt.UTC)))

    code, stdout, _ = run("--json", "--data-dir", catalog["data"])

    after = Month.of(court_today(dt.datetime.now(dt.UTC)))
    assert code == 0
    assert one_json(stdout)["months"][0]["month"] in (str(before), str(after))
    assert len(one_json(stdout)["months"]) == 1


@pytest.mark.parametrize(
    "args",
    [
        ("--from", "2025-13"),
        ("--to", "2025/01"),
        ("--from", "2025-03", "--to", "2025-01"),
        ("--to", "9998-12"),
        ("--from", "2000-01", "--to", "2025-01"),
    ],
)
def test_bad_months_are_usage_errors(args: tuple[str, ...], tmp_path: Path) -> None:
    code, _, stderr = run(*args, "--data-dir", tmp_path / "data")

    assert code == 2
    assert "usage error" in stderr


def test_output_in_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    code, _, stderr = run(
        "--to", "2025-01", "--xlsx", tmp_path / "nowhere" / "台账.xlsx", "--data-dir", tmp_path / "d"
    )

    assert code == 2
    assert "does not exist" in " ".join(stderr.split())


def test_unreachable_database_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDOSSIER_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/nowhere")

    code, stdout, _ = run("--to", "2025-01", "--json", "--data-dir", tmp_path / "data")

    assert code == 3
    assert one_json(stdout)["status"] == "unavailable"
