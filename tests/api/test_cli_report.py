"""``edossier report ID``: the latest stored detection report as PDF, HTML or JSON; exit 1 when none."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import NamedTuple

import pytest
import typer
from typer.testing import CliRunner

from api.cli_report import report
from api.wiring import initialise, open_installation
from archive.settings import Settings
from integrity.checks.model import DetectionReport
from integrity.reports.store import save_report
from tests.integrity.reports.conftest import WHEN, make_results

CASE = "(2024)京0105民初12345号"

app = typer.Typer(pretty_exceptions_enable=False)
app.command("report")(report)
app.command("noop")(lambda: None)  # two commands, so "report" stays a sub-command as in api/cli.py
runner = CliRunner()


class Stored(NamedTuple):
    data: Path
    gd: str
    yj: str


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Stored:
    """A data directory holding two reports for one 案号: GD (older, failed) and YJ (newer)."""
    data = tmp_path_factory.mktemp("cli-report") / "data"
    settings = Settings(data_dir=data)
    initialise(settings)
    inst = open_installation(settings)
    first = DetectionReport(
        stage="GD", subject=CASE, created_at=WHEN, results=make_results(), tool_version="0.1.0"
    )
    second = dataclasses.replace(first, stage="YJ", created_at=WHEN + dt.timedelta(days=30))
    with inst.write_sessions() as session, session.begin():
        gd = save_report(session, first, case_number=CASE, submission_id="sub-1")
        yj = save_report(session, second, case_number=CASE, archive_id="ED-2024-0001")
    inst.close()
    return Stored(data, gd, yj)


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["report", *[str(a) for a in args]], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_report_json_for_a_case_number_is_the_latest_report(data_dir: Stored) -> None:
    code, stdout, _ = run(CASE, "--format", "json", "--data-dir", data_dir.data)
    assert code == 0
    doc = json.loads(stdout)
    assert doc["header"]["report_id"] == data_dir.yj
    assert doc["header"]["stage_name"] == "移交与接收"


def test_report_by_submission_id_finds_that_report(data_dir: Stored) -> None:
    code, stdout, _ = run("sub-1", "-f", "html", "--data-dir", data_dir.data)
    assert code == 0
    assert "归档（GD）" in stdout
    assert data_dir.gd in stdout


def test_report_pdf_is_written_to_the_output_file(data_dir: Stored, tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    code, _, stderr = run("ED-2024-0001", "-o", target, "--data-dir", data_dir.data)
    assert code == 0, stderr
    assert target.read_bytes().startswith(b"%PDF-")


def test_report_pdf_without_output_is_a_usage_error(data_dir: Stored) -> None:
    code, _, _ = run(CASE, "--data-dir", data_dir.data)
    assert code == 2


def test_report_refuses_to_overwrite_without_force(data_dir: Stored, tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("keep", encoding="utf-8")
    code, _, _ = run(CASE, "-f", "json", "-o", target, "--data-dir", data_dir.data)
    assert code == 2
    assert target.read_text(encoding="utf-8") == "keep"
    code, _, _ = run(CASE, "-f", "json", "-o", target, "--force", "--data-dir", data_dir.data)
    assert code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["report"]["stage"] == "YJ"


def test_report_for_an_unknown_id_exits_1(data_dir: Stored) -> None:
    code, _, stderr = run("(2099)京0105民初1号", "-f", "json", "--data-dir", data_dir.data)
    assert code == 1
    assert "not found" in stderr
