"""The register as an Excel workbook, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from archive.register.compute import compute_register
from archive.register.export_xlsx import HEADERS, PERCENT_FORMAT, SHEET_TITLE, register_xlsx
from archive.register.model import TOTAL_LABEL, Month, RegisterTable

from . import vectors


@pytest.fixture(scope="module")
def table() -> RegisterTable:
    vector = vectors.load("valid", "month-boundaries-in-china-standard-time")
    return compute_register(
        vectors.inputs(vector),
        Month(2025, 1),
        Month(2025, 2),
        deadline_days=90,
        audit_period=dt.timedelta(days=365),
        now=vectors.instant(vector["now"]),
    )


@pytest.fixture(scope="module")
def sheet(table: RegisterTable) -> Worksheet:
    book = load_workbook(io.BytesIO(register_xlsx(table)))
    assert book.sheetnames == [SHEET_TITLE]
    found = book[SHEET_TITLE]
    assert isinstance(found, Worksheet)
    return found


def _rows(sheet: Worksheet) -> list[tuple[object, ...]]:
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows(min_row=2) if row[1].value]


def test_sheet_starts_with_the_chinese_headers(sheet: Worksheet) -> None:
    assert tuple(cell.value for cell in sheet[1]) == HEADERS
    assert HEADERS[:7] == ("月份", "承办部门", "结案数", "已归档", "按期归档", "逾期归档", "逾期未归档")


def test_each_month_lists_its_departments_then_a_totals_row(sheet: Worksheet) -> None:
    rows = _rows(sheet)

    assert [(r[0], r[1]) for r in rows] == [
        ("2025-01", "民一庭"),
        ("2025-01", TOTAL_LABEL),
        ("2025-02", "执行局"),
        ("2025-02", "民一庭"),
        ("2025-02", "民二庭"),
        ("2025-02", "（未知部门）"),
        ("2025-02", TOTAL_LABEL),
    ]
    february_total = rows[-1]
    assert february_total[2:9] == (
        1,
        2,
        1,
        1,
        0,
        2,
        1,
    )  # 结案, 已归档, 按期, 逾期归档, 逾期未归档, 通过, 不通过
    assert february_total[10:12] == (7, 4)


def test_rates_are_numbers_formatted_as_percentages_or_a_dash(sheet: Worksheet) -> None:
    cells = {(row[0].value, row[1].value): row for row in sheet.iter_rows(min_row=2) if row[1].value}

    january = cells[("2025-01", "民一庭")]
    assert january[9].value == 0.5
    assert january[9].number_format == PERCENT_FORMAT
    assert january[12].value == pytest.approx(2 / 3)
    assert january[12].number_format == PERCENT_FORMAT
    assert cells[("2025-02", "民二庭")][9].value == "—"
    assert cells[("2025-02", "民二庭")][12].value == "—"


def test_totals_rows_are_bold_and_the_counting_notes_follow(sheet: Worksheet) -> None:
    totals = [row for row in sheet.iter_rows(min_row=2) if row[1].value == TOTAL_LABEL]
    notes = [row[0].value for row in sheet.iter_rows(min_row=2) if row[0].value and not row[1].value]

    assert totals and all(cell.font.bold for row in totals for cell in row)
    assert any("结案后 90 日内" in str(n) for n in notes)
    assert any("365 日内" in str(n) for n in notes)
