"""``edossier cases``: the case ledger (案件台账) of closed cases and overdue archiving (逾期未归档预警).

``cases import FILE [--json]`` reads a CSV or JSON export of closed cases from the case management
system (:mod:`archive.cases`) and upserts it by 案号. **All or nothing**: when any row has a problem
nothing is imported, every problem is listed (row, field, Chinese message) and the exit code is 1, so
the sender fixes the file and sends it again whole; a re-import of the same file changes nothing.
After an import, cases whose dossier is already archived are linked to it.

``cases overdue [--json] [--days N] [--alert]`` lists the closed cases not archived N days after
结案日期 (default ``Settings.archiving_deadline_days``, env ``EDOSSIER_ARCHIVING_DEADLINE_DAYS``, 90),
most overdue first; with ``--json`` stdout holds one object
``{"overdue": [{case_number, department, judge, closing_date, days_overdue}], "deadline_days": N,
"today": "YYYY-MM-DD"}``. ``--alert`` also sends one overdue-archiving alert per case through the
configured channels (:mod:`integrity.alerts.overdue`; repeats within the dedupe window are suppressed)
and adds ``"alerts_sent"`` (plus folded / suppressed / pending counts and ``alert_error``) to the JSON.
Having overdue cases is a finding, not an error, and alerting is best effort: the exit code is 0.

``today`` is the date in China Standard Time (UTC+8) unless ``--today`` says otherwise.
Exit codes: 0 done, 1 the file was rejected, 2 usage error, 3 database unavailable.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.table import Table

from api import cli_output as ui
from api.cli_common import (
    EXIT_INVALID,
    DataDirOption,
    JsonOption,
    exit_unavailable,
    fail_usage,
    open_or_exit,
    settings_for,
)
from api.cli_overdue import print_delivery
from archive.cases import (
    CasesFileError,
    ImportResult,
    OverdueCase,
    ParsedCases,
    court_today,
    import_cases,
    overdue_cases,
    parse_cases,
    refresh_archived,
)
from integrity.alerts.overdue import overdue_archiving_alerts
from integrity.audit.overdue_check import AlertDelivery, deliver
from standards.errors import StorageError

cases_app = typer.Typer(
    help="案件台账：已结案件与逾期未归档预警 (closed cases, overdue archiving).", no_args_is_help=True
)

TodayOption = Annotated[
    str | None, typer.Option("--today", help="Date to judge by, YYYY-MM-DD (default: today in UTC+8).")
]


@cases_app.callback()
def _cases() -> None:
    """案件台账：已结案件与逾期未归档预警 (closed cases, overdue archiving)."""


def today_for(option: str | None, now: dt.datetime | None = None) -> dt.date:
    """``--today`` as a date, else the current date in China Standard Time."""
    if option is None:
        return court_today(now or dt.datetime.now(dt.UTC))
    try:
        return dt.date.fromisoformat(option)
    except ValueError:
        fail_usage(f"--today: expected YYYY-MM-DD; found {option!r}")


def _read(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes, so a huge file is refused without being read whole."""
    try:
        with path.open("rb") as fh:
            return fh.read(limit + 1)
    except OSError as error:
        fail_usage(f"{path}: cannot be read ({error.strerror or error})")


def _reject_file(path: Path, error: CasesFileError, as_json: bool) -> NoReturn:
    if as_json:
        ui.emit_json(
            {
                "status": "rejected",
                "file": path.name,
                "error": {"code": error.code, "message": error.message},
                "problems": [],
            }
        )
    ui.err.print(f"拒收：案件文件 {path.name} 无法读取", markup=False)
    ui.err.print(error.diagnostics(), markup=False)
    raise typer.Exit(EXIT_INVALID)


def _reject_rows(path: Path, parsed: ParsedCases, as_json: bool) -> NoReturn:
    if as_json:
        ui.emit_json(
            {
                "status": "rejected",
                "file": path.name,
                "encoding": parsed.encoding,
                "rows": parsed.rows,
                "problems": [p.as_dict() for p in parsed.problems],
            }
        )
        raise typer.Exit(EXIT_INVALID)
    ui.out.print(
        f"[bold red]拒收[/]：{path.name} 共 {parsed.rows} 条记录，{len(parsed.problems)} 个问题；"
        "未导入任何记录，请改正后重新报送整个文件"
    )
    table = Table(title="案件台账导入问题", show_lines=False)
    for column in ("行", "字段", "代码", "说明"):
        table.add_column(column, overflow="fold")
    for p in parsed.problems:
        table.add_row(str(p.row), p.field or "—", p.code, p.message)
    ui.out.print(table)
    raise typer.Exit(EXIT_INVALID)


def _print_imported(path: Path, parsed: ParsedCases, result: ImportResult, linked: list[str]) -> None:
    ui.out.print(f"[bold green]已导入[/] {path.name}（{parsed.encoding}，{parsed.rows} 条记录）")
    ui.out.print(f"  新增 added      : {len(result.added)}")
    ui.out.print(f"  更新 updated    : {len(result.updated)}")
    ui.out.print(f"  未变 unchanged  : {len(result.unchanged)}")
    ui.out.print(f"  已归档 linked   : {len(linked)}")


@cases_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV (案号,法院,承办部门,承办人,结案日期) or JSON file.")],
    today: TodayOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import closed cases reported by the case management system; any invalid row rejects the file."""
    settings = settings_for(data_dir)
    day = today_for(today)
    if not file.is_file():
        fail_usage(f"{file}: no such file")
    data = _read(file, settings.limits.xml_bytes)
    try:
        parsed = parse_cases(data, name=file.name, today=day, limits=settings.limits)
    except CasesFileError as error:
        _reject_file(file, error, as_json)
    if not parsed.ok:
        _reject_rows(file, parsed, as_json)
    inst = open_or_exit(settings, as_json)
    try:
        with inst.write_sessions() as session, session.begin():
            result = import_cases(session, parsed, source=file.name, now=dt.datetime.now(dt.UTC))
            linked = refresh_archived(session)
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json(
            {
                "status": "imported",
                "file": file.name,
                "encoding": parsed.encoding,
                "rows": parsed.rows,
                "added": list(result.added),
                "updated": list(result.updated),
                "unchanged": list(result.unchanged),
                "linked": linked,
                "problems": [],
            }
        )
    else:
        _print_imported(file, parsed, result, linked)


def _print_overdue(found: list[OverdueCase], days: int, day: dt.date) -> None:
    if not found:
        ui.out.print(f"[green]没有逾期未归档的案件[/]（{day.isoformat()}，结案后 {days} 日内应归档）")
        return
    table = Table(title=f"逾期未归档案件（{day.isoformat()}，结案后 {days} 日内应归档）：{len(found)} 件")
    for column in ("案号", "承办部门", "承办人", "结案日期", "超期天数"):
        table.add_column(column, overflow="fold")
    for case in found:
        table.add_row(
            case.case_number,
            case.department,
            case.judge,
            case.closing_date.isoformat(),
            str(case.days_overdue),
        )
    ui.out.print(table)


@cases_app.command("overdue")
def overdue_command(
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            min=0,
            max=36500,
            help="Days after 结案日期 by which archiving is due (default: EDOSSIER_ARCHIVING_DEADLINE_DAYS, 90).",
        ),
    ] = None,
    today: TodayOption = None,
    alert: Annotated[
        bool, typer.Option("--alert", help="Also send one overdue-archiving alert per case (逾期预警).")
    ] = False,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """List closed cases whose dossier is not archived within the deadline (逾期未归档), most overdue first."""
    settings = settings_for(data_dir)
    deadline_days = settings.archiving_deadline_days if days is None else days
    day = today_for(today)
    inst = open_or_exit(settings, as_json)
    delivery: AlertDelivery | None = None
    try:
        with inst.sessions() as session:
            found = overdue_cases(session, day, deadline_days)
        if alert:  # delivered and recorded in the catalog's alert list (never raises)
            now = dt.datetime.now(dt.UTC)
            alerts = overdue_archiving_alerts(found, deadline_days, now)
            delivery = deliver(settings, alerts, now, sessions=inst.write_sessions)
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json(
            {
                "overdue": [c.as_dict() for c in found],
                "deadline_days": deadline_days,
                "today": day.isoformat(),
                **(delivery.as_dict() if delivery is not None else {}),
            }
        )
        return
    _print_overdue(found, deadline_days, day)
    if delivery is not None:
        print_delivery(delivery, "归档逾期预警")
