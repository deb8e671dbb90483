"""The archiving register as a landscape A4 PDF (reportlab), one table per month.

Chinese must render in any viewer, so the CJK TrueType font is embedded exactly as the detection
report does it (:func:`integrity.reports.render_pdf.find_cjk_font`: an explicit path,
``$EDOSSIER_REPORT_FONT`` or a Debian font). Each month gets a heading, a table of its 承办部门 and a
「合计」 row; rates are shown as percentages with their counts (``75.0%（3/4）``). Notes on how each
figure is counted close the document. Output is deterministic for the same table (reportlab
``invariant``). Computing the table is left to :mod:`archive.register.compute`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from archive.cases import CHINA_TZ
from archive.register.model import SUMMARY_HEADERS, RegisterRow, RegisterTable, percent, register_notes
from integrity.reports.render_pdf import build_pdf, find_cjk_font, register_font

TITLE = "电子档案归档台账"
WIDTHS_MM = (56, 20, 20, 22, 22, 24, 48, 48)
PAGE = landscape(A4)


def _rate(rate: float | None, part: int, whole: int) -> str:
    return percent(rate) if rate is None else f"{percent(rate)}（{part}/{whole}）"


def _cells(row: RegisterRow) -> list[str]:
    return [
        row.department,
        str(row.closed),
        str(row.archived),
        str(row.archived_on_time),
        str(row.archived_late),
        str(row.overdue_open),
        _rate(
            row.detection_pass_rate,
            row.submissions_passed,
            row.submissions_passed + row.submissions_rejected,
        ),
        _rate(row.audit_coverage, row.objects_verified, row.objects_stored),
    ]


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of untrusted plain text (reportlab parses markup, so everything is escaped)."""
    return Paragraph(escape(text), style)


def _month_table(table: RegisterTable, month: str, font: str, style: ParagraphStyle) -> Table:
    rows = table.rows_of(month)
    data: list[list[Any]] = [[_p(h, style) for h in SUMMARY_HEADERS]]
    data += [[_p(c, style) for c in _cells(r)] for r in (*rows, table.total_of(month))]
    grid = Table(data, colWidths=[w * mm for w in WIDTHS_MM], repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f5f5f5")),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return grid


def _month_heading(month: str) -> str:
    year, number = month.split("-")
    return f"{year} 年 {int(number)} 月"


def register_pdf(table: RegisterTable, *, font_path: Path | None = None) -> bytes:
    """The PDF bytes of ``table``: a title, one table per month, then the counting notes.

    Raises:
        ReportFontMissing: no CJK font file was found (see :func:`find_cjk_font`).
        ReportFontUnsupported: the font file is not a TrueType font reportlab can embed.
    """
    font = register_font(find_cjk_font(font_path))
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=16, leading=22, alignment=1, spaceAfter=2 * mm)
    subtitle = ParagraphStyle("subtitle", parent=base, alignment=1, spaceAfter=4 * mm)
    heading = ParagraphStyle(
        "h2", parent=base, fontSize=11.5, leading=16, spaceBefore=4 * mm, spaceAfter=2 * mm
    )
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#444444"))
    span = f"{table.months[0]} 至 {table.months[-1]}" if table.months else "—"
    story: list[Any] = [
        _p(TITLE, title),
        _p(f"统计期间：{span}（按北京时间计月）", subtitle),
    ]
    for month in table.months:
        story.append(
            KeepTogether([_p(_month_heading(month), heading), _month_table(table, month, font, base)])
        )
    story.append(Spacer(1, 6 * mm))
    story += [_p(note, small) for note in register_notes(table)]

    as_of = table.as_of.astimezone(CHINA_TZ).isoformat(timespec="seconds")
    return build_pdf(
        story,
        font=font,
        footer=lambda page: f"{TITLE} · {span} · 第 {page} 页",
        title=f"{TITLE} {span}",
        subject=f"归档台账 {span}，统计时间 {as_of}",
        pagesize=PAGE,
        margins=(15 * mm, 15 * mm, 14 * mm, 18 * mm),
    )
