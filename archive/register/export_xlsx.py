"""The archiving register as an Excel workbook (openpyxl): one sheet 「台账」 for archivists.

Row 1 holds the Chinese column headers; then, month by month, one row per 承办部门 and a bold
「合计」 row. Counts are numbers; the two rates are numbers formatted as percentages (``0.0%``), or
「—」 where there is nothing to rate. The parameters (deadline, audit period, time of computation)
are written below the table.
Computing the table is left to :mod:`archive.register.compute`.
"""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from archive.register.model import RegisterRow, RegisterTable, register_notes

SHEET_TITLE = "台账"
#: (header, width) of each column, in order.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("月份", 10),
    ("承办部门", 18),
    ("结案数", 8),
    ("已归档", 8),
    ("按期归档", 10),
    ("逾期归档", 10),
    ("逾期未归档", 11),
    ("GD检测通过", 11),
    ("GD检测不通过", 13),
    ("GD检测通过率", 13),
    ("存储对象数", 11),
    ("已审计对象数", 13),
    ("审计覆盖率", 11),
)
HEADERS: tuple[str, ...] = tuple(name for name, _ in COLUMNS)
PERCENT_FORMAT = "0.0%"
NO_VALUE = "—"
_RATE_COLUMNS = (10, 13)  # 1-based: GD检测通过率, 审计覆盖率
_HEADER_FILL = PatternFill("solid", fgColor="EEEEEE")
_TOTAL_FILL = PatternFill("solid", fgColor="F5F5F5")


def _values(row: RegisterRow) -> list[str | int | float]:
    return [
        row.month,
        row.department,
        row.closed,
        row.archived,
        row.archived_on_time,
        row.archived_late,
        row.overdue_open,
        row.submissions_passed,
        row.submissions_rejected,
        NO_VALUE if row.detection_pass_rate is None else row.detection_pass_rate,
        row.objects_stored,
        row.objects_verified,
        NO_VALUE if row.audit_coverage is None else row.audit_coverage,
    ]


def _append(sheet: Worksheet, row: RegisterRow, *, total: bool) -> None:
    sheet.append(_values(row))
    number = sheet.max_row
    for column in _RATE_COLUMNS:
        cell = sheet.cell(row=number, column=column)
        if isinstance(cell.value, float):
            cell.number_format = PERCENT_FORMAT
        else:
            cell.alignment = Alignment(horizontal="right")
    if total:
        for column in range(1, len(COLUMNS) + 1):
            cell = sheet.cell(row=number, column=column)
            cell.font = Font(bold=True)
            cell.fill = _TOTAL_FILL


def register_xlsx(table: RegisterTable) -> bytes:
    """The ``.xlsx`` bytes of ``table``: sheet 「台账」 with a header row, month rows and totals rows."""
    book = Workbook()
    sheet = book.active
    if not isinstance(sheet, Worksheet):  # a new workbook always starts with one worksheet
        raise TypeError(f"openpyxl: expected a worksheet in a new workbook; found {type(sheet).__name__}")
    sheet.title = SHEET_TITLE
    sheet.append(list(HEADERS))
    for index, (_, width) in enumerate(COLUMNS, start=1):
        header = sheet.cell(row=1, column=index)
        header.font = Font(bold=True)
        header.fill = _HEADER_FILL
        header.alignment = Alignment(horizontal="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C2"
    for month in table.months:
        for row in table.rows_of(month):
            _append(sheet, row, total=False)
        _append(sheet, table.total_of(month), total=True)
    sheet.append([])
    for note in register_notes(table):
        sheet.append([note])
    book.properties.creator = "edossier"
    book.properties.title = (
        f"电子档案归档台账 {table.months[0]}–{table.months[-1]}" if table.months else "归档台账"
    )
    book.properties.created = table.as_of.astimezone(dt.UTC).replace(
        tzinfo=None, microsecond=0
    )  # naive = UTC
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
