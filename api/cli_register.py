"""``edossier register``: the monthly archiving register (归档台账) by 承办部门, with XLSX and PDF exports.

``register [--from YYYY-MM] [--to YYYY-MM] [--xlsx FILE] [--pdf FILE] [--json]`` computes, for each
month (China Standard Time) and department: 结案数, 已归档 (按期 / 逾期), 逾期未归档 at the end of
the month, the GD detection pass rate and the audit coverage (:mod:`archive.register.compute`).
``--to`` defaults to the current month, ``--from`` to ``--to``. The archiving deadline is
``Settings.archiving_deadline_days`` (90), the audit period ``Settings.audit.fixity_every_days`` (365).
``--xlsx`` / ``--pdf`` write the register as an Excel workbook (sheet 「台账」) / a PDF; an existing
file is replaced (written through a temporary file, so no reader sees half of it).

With ``--json`` stdout holds one object: :meth:`~archive.register.model.RegisterTable.as_dict`
plus ``"xlsx"`` and ``"pdf"`` (the paths written, or null). Exit codes: 0 done, 2 usage error (a bad
month or range, a missing output folder), 3 database unavailable or no CJK font for the PDF.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from api import cli_output as ui
from api.cli_common import DataDirOption, JsonOption, exit_unavailable, fail_usage, open_or_exit, settings_for
from archive.cases import court_today
from archive.register.compute import compute_register, month_range
from archive.register.model import SUMMARY_HEADERS, Month, RegisterTable, percent
from archive.register.reader import read_register_inputs
from standards.errors import BadInput, EdossierError

MonthOption = Annotated[str | None, typer.Option(help="Month YYYY-MM (China Standard Time).")]


def _month(option: str | None, name: str, default: Month) -> Month:
    if option is None:
        return default
    try:
        return Month.parse(option)
    except BadInput as error:
        fail_usage(f"{name}: {error.message}")


def _check_target(path: Path | None, name: str) -> None:
    if path is not None and not path.parent.is_dir():
        fail_usage(f"{name}: folder {path.parent} does not exist")
    if path is not None and path.is_dir():
        fail_usage(f"{name}: {path} is a folder; expected a file name")


def _write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _print(table: RegisterTable) -> None:
    for month in table.months:
        grid = Table(
            title=f"归档台账 {month}（按期归档期限：结案后 {table.deadline_days} 日）", box=box.SIMPLE_HEAD
        )
        for number, column in enumerate(SUMMARY_HEADERS):  # department names never fold; headers may
            grid.add_column(
                column, overflow="fold", no_wrap=number == 0, justify="right" if number else "left"
            )
        for row in (*table.rows_of(month), table.total_of(month)):
            grid.add_row(
                row.department,
                str(row.closed),
                str(row.archived),
                str(row.archived_on_time),
                str(row.archived_late),
                str(row.overdue_open),
                percent(row.detection_pass_rate),
                percent(row.audit_coverage),
            )
        ui.out.print(grid)


def register(
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
    month_from: Annotated[
        str | None, typer.Option("--from", help="First month, YYYY-MM (default: --to).")
    ] = None,
    month_to: Annotated[
        str | None, typer.Option("--to", help="Last month, YYYY-MM (default: the current month in UTC+8).")
    ] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Also write the register as an Excel file.")
    ] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Also write the register as a PDF file.")] = None,
) -> None:
    """归档台账：按月、按承办部门统计结案、归档、逾期、检测通过率与审计覆盖率 (monthly register)."""
    settings = settings_for(data_dir)
    now = dt.datetime.now(dt.UTC)
    last = _month(month_to, "--to", Month.of(court_today(now)))
    first = _month(month_from, "--from", last)
    try:
        month_range(first, last, today=court_today(now))
    except BadInput as error:
        fail_usage(error.message)
    _check_target(xlsx, "--xlsx")
    _check_target(pdf, "--pdf")
    audit_period = dt.timedelta(days=settings.audit.fixity_every_days)
    inst = open_or_exit(settings, as_json)
    try:
        with inst.sessions() as session:
            inputs = read_register_inputs(session, first, last, audit_period=audit_period)
        table = compute_register(
            inputs,
            first,
            last,
            deadline_days=settings.archiving_deadline_days,
            audit_period=audit_period,
            now=now,
        )
        if xlsx is not None:
            from archive.register.export_xlsx import register_xlsx  # openpyxl only when asked

            _write(xlsx, register_xlsx(table))
        if pdf is not None:
            from archive.register.export_pdf import register_pdf  # reportlab only when asked

            _write(pdf, register_pdf(table))
    except EdossierError as error:  # database down, no CJK font
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json(
            {**table.as_dict(), "xlsx": str(xlsx) if xlsx else None, "pdf": str(pdf) if pdf else None}
        )
        return
    _print(table)
    for path, kind in ((xlsx, "Excel"), (pdf, "PDF")):
        if path is not None:
            ui.out.print(f"台账已写入 {path}（{kind}）", markup=False)
