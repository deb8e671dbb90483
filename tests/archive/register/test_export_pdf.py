"""The register as a PDF: embedded CJK TrueType font, and the text (pdftotext) holds departments and numbers.

Needs a CJK TrueType font (Debian ``fonts-wqy-microhei``) and ``pdftotext`` (Debian ``poppler-utils``);
without them the tests skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess

import pikepdf
import pytest

from archive.register.compute import compute_register
from archive.register.export_pdf import register_pdf
from archive.register.model import Month, RegisterTable
from integrity.reports.render_pdf import ReportFontMissing, find_cjk_font

from . import vectors


def _require(what: str, present: bool) -> None:
    if not present:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{what} is not installed (CI=true: the PDF tests must run)")
        pytest.skip(f"{what} is not installed")


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
def pdf(table: RegisterTable) -> bytes:
    try:
        find_cjk_font()
    except ReportFontMissing:
        _require("a CJK TrueType font (apt-get install fonts-wqy-microhei)", False)
    return register_pdf(table)


def _text(data: bytes) -> str:
    _require("pdftotext (poppler-utils)", shutil.which("pdftotext") is not None)
    done = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def test_pdf_text_names_every_department_month_and_heading(pdf: bytes) -> None:
    text = _text(pdf)

    for needle in (
        "电子档案归档台账",
        "2025 年 1 月",
        "2025 年 2 月",
        "民一庭",
        "民二庭",
        "执行局",
        "（未知部门）",
    ):
        assert needle in text
    for header in ("结案数", "按期归档", "逾期未归档", "GD检测通过率", "审计覆盖率", "合计"):
        assert header in text


def test_pdf_text_holds_the_numbers_of_each_row(pdf: bytes) -> None:
    lines = [line.split() for line in _text(pdf).splitlines()]
    rows = [cells for cells in lines if cells and cells[0] in ("民一庭", "民二庭", "执行局", "合计")]

    assert ["民一庭", "1", "1", "1", "0", "1", "50.0%（1/2）", "66.7%（2/3）"] in rows  # January
    assert [
        "民一庭",
        "0",
        "1",
        "0",
        "1",
        "0",
        "100.0%（1/1）",
        "60.0%（3/5）",
    ] in rows  # February: archived late
    assert ["民二庭", "1", "0", "0", "0", "0", "—", "—"] in rows
    assert ["合计", "1", "2", "1", "1", "0", "66.7%（2/3）", "57.1%（4/7）"] in rows


def test_pdf_embeds_the_cjk_font_and_is_deterministic(pdf: bytes, table: RegisterTable) -> None:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        fonts = [font for page in doc.pages for font in page.Resources.Font.values()]
        embedded = [
            f for f in fonts if f.get("/FontDescriptor") is not None and f.FontDescriptor.get("/FontFile2")
        ]
    assert embedded, "no embedded TrueType font: Chinese would not render"
    assert register_pdf(table) == pdf
