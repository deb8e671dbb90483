"""``edossier cases import`` / ``cases overdue``: all-or-nothing import, exit codes 0/1/2/3, one JSON object."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from api.cli_cases import cases_app, today_for
from api.wiring import initialise, open_installation
from archive.cases import CHINA_TZ
from archive.sample import generate_sample
from archive.settings import Settings
from tests.support.alert_receivers import Webhook, webhook_receiver

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "cases"
NOW = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
TODAY = "2025-03-01"
OLD_CASE = "（2023）京0105民初9号"
OLD_CASE_90 = "（2024）京0105民初77号"  # closed 2024-12-01, 90 days before TODAY

app = typer.Typer(pretty_exceptions_enable=False)
app.add_typer(cases_app, name="cases")  # as api/cli.py is asked to register it
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["cases", *[str(a) for a in args]], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_json(stdout: str) -> dict[str, Any]:
    value = json.loads(stdout)
    assert isinstance(value, dict)
    return value


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    initialise(Settings(data_dir=data))
    return data


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A data directory with one archived sample dossier, and a case report naming it and an old open case."""
    root = tmp_path_factory.mktemp("cli-cases")
    settings = Settings(data_dir=root / "data")
    initialise(settings)
    inst = open_installation(settings)
    try:
        sample = generate_sample(root / "case", seed=11, documents=2, now=NOW)
        outcome = inst.ingest_service().ingest(sample.path)
    finally:
        inst.close()
    assert outcome.status == "archived"
    report = root / "结案报送.csv"
    report.write_text(
        "案号,承办部门,承办人,结案日期\n"
        f"{sample.case_number},民事审判庭,张伟,2024-01-10\n"
        f"{OLD_CASE},刑事审判庭,李娜,2023-12-01\n",
        encoding="utf-8-sig",
    )
    return {"data": settings.data_dir, "case": sample.case_number, "id": outcome.archive_id, "report": report}


def test_import_valid_csv_adds_every_case_and_a_second_import_changes_nothing(data_dir: Path) -> None:
    vector = VECTORS / "valid" / "gb18030-from-excel.csv"

    code, stdout, _ = run("import", vector, "--json", "--today", TODAY, "--data-dir", data_dir)
    again_code, again, _ = run("import", vector, "--json", "--today", TODAY, "--data-dir", data_dir)

    first = one_json(stdout)
    assert code == 0
    assert first["status"] == "imported"
    assert first["encoding"] == "gb18030"
    assert first["added"] == ["（2024）粤0306民初1234号", "（2024）粤0306执456号"]
    assert again_code == 0
    assert one_json(again)["unchanged"] == first["added"]


def test_import_with_an_invalid_row_imports_nothing_and_lists_every_problem(data_dir: Path) -> None:
    vector = VECTORS / "invalid" / "judge-missing-and-date-missing.csv"

    code, stdout, _ = run("import", vector, "--json", "--today", TODAY, "--data-dir", data_dir)
    _, overdue, _ = run("overdue", "--json", "--days", "0", "--today", TODAY, "--data-dir", data_dir)

    result = one_json(stdout)
    assert code == 1
    assert result["status"] == "rejected"
    assert [(p["row"], p["field"], p["code"]) for p in result["problems"]] == [
        (3, "承办人", "case_field_missing"),
        (3, "结案日期", "case_field_missing"),
    ]
    assert one_json(overdue)["overdue"] == []  # the valid row 2 was not imported either


def test_import_rejection_is_printed_in_chinese_for_people(data_dir: Path) -> None:
    vector = VECTORS / "invalid" / "case-number-half-width-brackets.csv"

    code, stdout, _ = run("import", vector, "--today", TODAY, "--data-dir", data_dir)

    assert code == 1
    assert "拒收" in stdout and "未导入任何记录" in stdout
    assert "全角括号" in stdout


def test_unreadable_file_is_rejected_with_its_error_code(data_dir: Path) -> None:
    vector = VECTORS / "invalid" / "column-judge-missing.csv"

    code, stdout, stderr = run("import", vector, "--json", "--data-dir", data_dir)

    assert code == 1
    assert one_json(stdout)["error"]["code"] == "cases_column_missing"
    assert "CasesColumnMissing" in stderr


def test_missing_file_and_bad_today_are_usage_errors(data_dir: Path, tmp_path: Path) -> None:
    assert run("import", tmp_path / "nope.csv", "--data-dir", data_dir)[0] == 2
    assert run("overdue", "--today", "2025/03/01", "--data-dir", data_dir)[0] == 2
    assert run("overdue", "--days", "-1", "--data-dir", data_dir)[0] == 2


def test_import_links_the_archived_dossier_and_overdue_lists_only_the_unarchived_case(
    archived: dict[str, Any],
) -> None:
    code, stdout, _ = run(
        "import", archived["report"], "--json", "--today", TODAY, "--data-dir", archived["data"]
    )
    assert code == 0
    assert one_json(stdout)["linked"] == [archived["case"]]

    code, stdout, _ = run("overdue", "--json", "--today", TODAY, "--data-dir", archived["data"])

    assert code == 0
    assert one_json(stdout) == {
        "overdue": [
            {
                "case_number": OLD_CASE,
                "department": "刑事审判庭",
                "judge": "李娜",
                "closing_date": "2023-12-01",
                "days_overdue": 366,
            }
        ],
        "deadline_days": 90,
        "today": TODAY,
    }


def test_overdue_days_option_moves_the_deadline(archived: dict[str, Any]) -> None:
    run("import", archived["report"], "--today", TODAY, "--data-dir", archived["data"])

    code, stdout, _ = run(
        "overdue", "--json", "--days", "500", "--today", TODAY, "--data-dir", archived["data"]
    )

    assert code == 0
    assert one_json(stdout)["overdue"] == []
    assert one_json(stdout)["deadline_days"] == 500


def test_overdue_table_for_people_names_the_case_and_days(archived: dict[str, Any]) -> None:
    run("import", archived["report"], "--today", TODAY, "--data-dir", archived["data"])

    code, stdout, _ = run("overdue", "--today", TODAY, "--data-dir", archived["data"])

    assert code == 0
    assert "逾期未归档案件" in stdout and OLD_CASE in stdout and "366" in stdout


def test_unreachable_database_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDOSSIER_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/nowhere")

    code, stdout, _ = run("overdue", "--json", "--data-dir", tmp_path / "data")

    assert code == 3
    assert one_json(stdout)["status"] == "unavailable"


def test_today_defaults_to_the_date_in_china_standard_time() -> None:
    late_utc = dt.datetime(2025, 2, 28, 17, 0, tzinfo=dt.UTC)  # 01:00 on 1 March in Beijing

    assert today_for(None, late_utc) == dt.date(2025, 3, 1)
    assert CHINA_TZ.utcoffset(None) == dt.timedelta(hours=8)


# ---------------------------------------------------------------- overdue alerts (--alert) and the deadline setting
@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """A loopback webhook the installation's alert settings point at (log channel off)."""
    with webhook_receiver() as receiver:
        monkeypatch.setenv("EDOSSIER_ALERTS__WEBHOOKS", json.dumps([receiver.url]))
        monkeypatch.setenv("EDOSSIER_ALERTS__LOG", "false")
        yield receiver


def report(tmp_path: Path, data_dir: Path, *rows: tuple[str, str]) -> None:
    """Import closed cases (案号, 结案日期) through ``cases import``."""
    path = tmp_path / "结案报送.csv"
    body = "".join(f"{number},刑事审判庭,李娜,{closed}\n" for number, closed in rows)
    path.write_text("案号,承办部门,承办人,结案日期\n" + body, encoding="utf-8")
    assert run("import", path, "--today", TODAY, "--data-dir", data_dir)[0] == 0


def test_overdue_alert_sends_one_alert_per_case_and_a_rerun_the_same_day_sends_none(
    tmp_path: Path, data_dir: Path, hook: Webhook
) -> None:
    report(tmp_path, data_dir, (OLD_CASE, "2023-12-01"))
    args = ("overdue", "--alert", "--json", "--today", TODAY, "--data-dir", data_dir)

    code, stdout, _ = run(*args)
    again_code, again, _ = run(*args)

    first = one_json(stdout)
    assert (code, first["alerts_sent"], first["alert_error"]) == (0, 1, None)
    assert [c["case_number"] for c in first["overdue"]] == [OLD_CASE]
    [alert] = hook.alerts()
    assert alert["kind"] == "overdue_archiving" and alert["subject"] == OLD_CASE
    assert OLD_CASE in alert["message"] and "已逾期 366 日" in alert["message"]
    assert alert["evidence_link"] == "edossier cases overdue --json"
    assert again_code == 0
    assert (one_json(again)["alerts_sent"], one_json(again)["alerts_suppressed"]) == (0, 1)
    assert len(hook.alerts()) == 1


def test_overdue_alert_tells_people_how_many_alerts_went_out(
    tmp_path: Path, data_dir: Path, hook: Webhook
) -> None:
    report(tmp_path, data_dir, (OLD_CASE, "2023-12-01"))

    code, stdout, _ = run("overdue", "--alert", "--today", TODAY, "--data-dir", data_dir)

    assert code == 0
    assert "已发送归档逾期预警 1 条" in stdout


def test_overdue_alert_with_no_channel_still_lists_and_exits_0(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDOSSIER_ALERTS__LOG", "false")  # no channel at all: alerting fails, listing stands
    report(tmp_path, data_dir, (OLD_CASE, "2023-12-01"))

    code, stdout, _ = run("overdue", "--alert", "--json", "--today", TODAY, "--data-dir", data_dir)

    result = one_json(stdout)
    assert code == 0
    assert [c["case_number"] for c in result["overdue"]] == [OLD_CASE]
    assert result["alerts_sent"] == 0 and "at least one channel" in result["alert_error"]


@pytest.mark.parametrize(("setting", "overdue"), [("89", [OLD_CASE_90]), ("91", [])])
def test_overdue_default_deadline_is_the_archiving_deadline_setting(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, setting: str, overdue: list[str]
) -> None:
    report(tmp_path, data_dir, (OLD_CASE_90, "2024-12-01"))  # 90 days before 2025-03-01
    monkeypatch.setenv("EDOSSIER_ARCHIVING_DEADLINE_DAYS", setting)

    code, stdout, _ = run("overdue", "--json", "--today", TODAY, "--data-dir", data_dir)

    result = one_json(stdout)
    assert code == 0
    assert result["deadline_days"] == int(setting)
    assert [c["case_number"] for c in result["overdue"]] == overdue
    assert "alerts_sent" not in result  # only with --alert


def test_overdue_days_option_overrides_the_setting(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report(tmp_path, data_dir, (OLD_CASE_90, "2024-12-01"))
    monkeypatch.setenv("EDOSSIER_ARCHIVING_DEADLINE_DAYS", "91")

    _, stdout, _ = run("overdue", "--json", "--days", "89", "--today", TODAY, "--data-dir", data_dir)

    assert one_json(stdout)["deadline_days"] == 89
    assert [c["days_overdue"] for c in one_json(stdout)["overdue"]] == [1]


def test_invalid_archiving_deadline_setting_is_a_usage_error(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDOSSIER_ARCHIVING_DEADLINE_DAYS", "0")

    assert run("overdue", "--data-dir", data_dir)[0] == 2
