"""PDF form of a detection report: embedded CJK TrueType font, extractable Chinese, renders to PNG.

Needs a CJK TrueType font (Debian ``fonts-wqy-microhei``) and ``pdftotext``/``pdftoppm`` (Debian
``poppler-utils``); without them the tests skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest

from integrity.checks.model import DetectionReport
from integrity.reports.header import header_for
from integrity.reports.render_pdf import (
    ReportFontMissing,
    ReportFontUnsupported,
    find_cjk_font,
    render_pdf,
)

from .conftest import ITEMS


def _require(what: str, present: bool) -> None:
    if not present:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{what} is not installed (CI=true: the PDF tests must run)")
        pytest.skip(f"{what} is not installed")


@pytest.fixture
def pdf(report: DetectionReport) -> bytes:
    try:
        find_cjk_font()
    except ReportFontMissing:
        _require("a CJK TrueType font (apt-get install fonts-wqy-microhei)", False)
    return render_pdf(
        report, header_for(report, case_number=report.subject, archive_id="ED-2024-0001"), ITEMS
    )


def _text(data: bytes) -> str:
    _require("pdftotext (poppler-utils)", shutil.which("pdftotext") is not None)
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def test_pdf_embeds_the_cjk_font_as_truetype(pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        fonts = [font for page in doc.pages for font in page.Resources.Font.values()]
        truetype = [f for f in fonts if f.get("/Subtype") == pikepdf.Name.TrueType]
        assert truetype, "no TrueType font: Chinese would not render"
        for font in truetype:
            descriptor = font.get("/FontDescriptor")
            assert descriptor is not None
            assert descriptor.get("/FontFile2") is not None  # the font program is embedded (ISO 32000-1 §9.9)
            assert "WenQuanYi" in str(font.BaseFont) or os.environ.get("EDOSSIER_REPORT_FONT")


def test_pdf_text_contains_the_chinese_item_names_and_results(pdf: bytes) -> None:
    text = _text(pdf)
    for needle in (
        "电子档案四性检测报告",
        "固化信息有效性检测",
        "不通过",
        "(2024)京0105民初12345号",
        "检测人",
        "审核人",
    ):
        assert needle in text


def test_pdf_shows_hostile_text_literally(hostile_report: DetectionReport) -> None:
    try:
        data = render_pdf(hostile_report, items=ITEMS)
    except ReportFontMissing:
        _require("a CJK TrueType font", False)
        return
    assert '<script>alert("x")</script>' in _text(data)


def test_pdf_first_page_renders_to_png(pdf: bytes, tmp_path: Path) -> None:
    _require("pdftoppm (poppler-utils)", shutil.which("pdftoppm") is not None)
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(source), str(tmp_path / "p")], check=True
    )
    png = next(tmp_path.glob("p-*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pdf_is_deterministic_for_the_same_report(pdf: bytes, report: DetectionReport) -> None:
    again = render_pdf(
        report, header_for(report, case_number=report.subject, archive_id="ED-2024-0001"), ITEMS
    )
    assert again == pdf


def test_find_cjk_font_rejects_a_named_file_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ReportFontMissing, match="no file"):
        find_cjk_font(tmp_path / "missing.ttf")


def test_find_cjk_font_reads_the_environment_variable(tmp_path: Path) -> None:
    font = tmp_path / "font.ttf"
    font.write_bytes(b"x")
    assert find_cjk_font(environ={"EDOSSIER_REPORT_FONT": str(font)}) == font


def test_render_pdf_refuses_a_file_that_is_not_a_truetype_font(
    report: DetectionReport, tmp_path: Path
) -> None:
    bogus = tmp_path / "not-a-font.ttf"
    bogus.write_bytes(b"OTTO" + b"\0" * 64)  # an OpenType/CFF signature reportlab cannot embed
    with pytest.raises(ReportFontUnsupported, match="TrueType"):
        render_pdf(report, font_path=bogus)
