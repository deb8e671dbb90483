"""A detection report as an A4 PDF with an embedded CJK TrueType font (reportlab).

Chinese must render in any viewer, so the font is embedded (reportlab subsets a TrueType font and
writes it as ``FontFile2``); PDF base-14 fonts have no Chinese glyphs. reportlab reads TrueType
outlines only — an OpenType/CFF font (most Noto CJK builds) is refused with
:class:`ReportFontUnsupported`. The font is found by :func:`find_cjk_font`: an explicit path, else
``$EDOSSIER_REPORT_FONT``, else the Debian fonts (``fonts-wqy-microhei``, ``fonts-wqy-zenhei``,
``fonts-droid-fallback``).

The page: a header block, the item table (text wrapped per CJK character), per-property totals, the
manual checklist (DA/T 70 items answered by people, e.g. 2-7, 3-4, 4-5) and the signature lines
(检测人 / 审核人 / 日期). Output is deterministic for the same input (reportlab ``invariant``).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from integrity.checks.model import STATUSES, DetectionReport, StageItem
from integrity.reports.header import ReportHeader, header_for
from integrity.reports.presentation import (
    STATUS_NAMES,
    ItemRow,
    item_rows,
    local_time,
    property_totals,
    verdict,
)
from standards.errors import StorageError

FONT_ENV = "EDOSSIER_REPORT_FONT"
FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # Debian fonts-wqy-microhei
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # Debian fonts-wqy-zenhei
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),  # Debian fonts-droid-fallback
)
#: Evidence lines shown per item in the PDF; the rest are counted (the JSON report has them all).
MAX_DETAILS = 12
STATUS_COLOURS = {
    "pass": colors.HexColor("#166534"),
    "fail": colors.HexColor("#b91c1c"),
    "warn": colors.HexColor("#b45309"),
}


class ReportFontMissing(StorageError):
    """No CJK TrueType font file is installed where the report renderer looks for one."""

    code = "report_font_missing"


class ReportFontUnsupported(StorageError):
    """The configured font file cannot be embedded (not TrueType outlines, or not a font)."""

    code = "report_font_unsupported"


def find_cjk_font(explicit: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The font file to embed: ``explicit``, else ``$EDOSSIER_REPORT_FONT``, else a Debian CJK font.

    Raises:
        ReportFontMissing: the named file does not exist, or none of the candidates is installed.
    """
    env = os.environ if environ is None else environ
    named = explicit or (Path(env[FONT_ENV]) if env.get(FONT_ENV) else None)
    if named is not None:
        if not named.is_file():
            raise ReportFontMissing(f"report font: expected a TrueType font file; found no file at {named}")
        return named
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise ReportFontMissing(
        f"report font: expected a CJK TrueType font at ${FONT_ENV} or one of "
        f"{', '.join(str(c) for c in FONT_CANDIDATES)}; found none "
        "(install fonts-wqy-microhei, or set the variable)"
    )


@cache
def register_font(path: Path) -> str:
    """Register ``path`` with reportlab once; returns its registered name."""
    name = "EdossierCJK-" + hashlib.sha256(str(path).encode()).hexdigest()[:12]  # stable across runs
    try:
        font = TTFont(name, str(path), subfontIndex=0)  # .ttc: the first face (WenQuanYi Micro Hei)
    except (TTFError, OSError) as error:
        raise ReportFontUnsupported(
            f"report font {path}: expected TrueType outlines reportlab can embed; found: {error}"
        ) from None
    pdfmetrics.registerFont(font)
    return name


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=7.5, leading=10, textColor=colors.HexColor("#444444")
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=16, leading=22, alignment=1, spaceAfter=2 * mm
        ),
        "subtitle": ParagraphStyle("subtitle", parent=base, alignment=1, spaceAfter=4 * mm),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=11.5, leading=16, spaceBefore=4 * mm, spaceAfter=2 * mm
        ),
        "bold": ParagraphStyle("bold", parent=base, fontSize=10),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of untrusted plain text (reportlab parses markup, so everything is escaped)."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _grid(font: str, header_rows: int = 1) -> list[tuple[Any, ...]]:
    return [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#eeeeee")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]


def _header_table(head: ReportHeader, conclusion: str, s: dict[str, ParagraphStyle], font: str) -> Table:
    ledger = str(head.ledger_position) if head.ledger_position is not None else "—"
    pairs = [
        ("检测对象", head.subject, "案号", head.case_number or "—"),
        ("档案标识", head.archive_id or "—", "提交标识", head.submission_id or "—"),
        ("检测环节", f"{head.stage_name}（{head.stage}）", "检测时间", local_time(head.created_at)),
        ("检测工具", f"edossier {head.tool_version}", "账本位置", ledger),
        ("报告编号", head.report_id or "—", "检测结论", conclusion),
    ]
    data = [[_p(a, s["base"]), _p(b, s["base"]), _p(c, s["base"]), _p(d, s["base"])] for a, b, c, d in pairs]
    table = Table(data, colWidths=[20 * mm, 65 * mm, 20 * mm, 69 * mm])
    style = _grid(font, header_rows=0)
    style += [("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee"))]
    style += [("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#eeeeee"))]
    table.setStyle(TableStyle(style))
    return table


def _item_cell(row: ItemRow, s: dict[str, ParagraphStyle]) -> list[Paragraph]:
    cell = [_p(row.summary, s["base"])]
    shown = row.details[:MAX_DETAILS]
    cell += [_p("· " + d, s["small"]) for d in shown]
    if len(row.details) > len(shown):
        cell.append(_p(f"……另有 {len(row.details) - len(shown)} 条，详见 JSON 报告", s["small"]))
    return cell


def _items_table(rows: list[ItemRow], s: dict[str, ParagraphStyle], font: str) -> Table:
    data: list[list[Any]] = [[_p(h, s["bold"]) for h in ("编号", "检测项目", "属性", "结果", "说明")]]
    style = _grid(font)
    for i, row in enumerate(rows, start=1):
        colour = STATUS_COLOURS.get(row.status, colors.HexColor("#555555"))
        data.append(
            [
                _p(row.item, s["base"]),
                _p(row.name, s["base"]),
                _p(row.property, s["base"]),
                _p(row.status_name, ParagraphStyle(f"st{i}", parent=s["base"], textColor=colour)),
                _item_cell(row, s),
            ]
        )
    table = Table(data, colWidths=[19 * mm, 38 * mm, 14 * mm, 17 * mm, 86 * mm], repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


def _totals_table(rows: list[ItemRow], s: dict[str, ParagraphStyle], font: str) -> Table:
    head = ["属性", *[STATUS_NAMES[st] for st in STATUSES], "合计"]
    data: list[list[Any]] = [[_p(h, s["bold"]) for h in head]]
    for t in property_totals(rows):
        data.append([_p(t.property, s["base"]), *[str(t.counts[st]) for st in STATUSES], str(t.total)])
    table = Table(data, colWidths=[24 * mm] + [20 * mm] * len(STATUSES) + [18 * mm], repeatRows=1)
    table.setStyle(TableStyle([*_grid(font), ("ALIGN", (1, 1), (-1, -1), "CENTER")]))
    return table


def _manual_table(manual: list[ItemRow], s: dict[str, ParagraphStyle], font: str) -> Table:
    data: list[list[Any]] = [[_p(h, s["bold"]) for h in ("编号", "检测项目", "需人工确认的内容", "结论")]]
    for row in manual:
        data.append(
            [
                _p(row.item, s["base"]),
                _p(row.name, s["base"]),
                _p(row.checklist or "", s["base"]),
                _p("□ 符合\n□ 不符合", s["base"]),
            ]
        )
    table = Table(data, colWidths=[19 * mm, 38 * mm, 95 * mm, 22 * mm], repeatRows=1)
    table.setStyle(TableStyle(_grid(font)))
    return table


def render_pdf(
    report: DetectionReport,
    header: ReportHeader | None = None,
    items: Mapping[str, StageItem] | None = None,
    *,
    font_path: Path | None = None,
) -> bytes:
    """The PDF bytes of ``report``; ``items`` (registry entries by id) supply item names;
    by default the DA/T 70 registry (:func:`integrity.reports.presentation.registry_items`).

    Raises:
        ReportFontMissing: no CJK font file was found (see :func:`find_cjk_font`).
        ReportFontUnsupported: the font file is not a TrueType font reportlab can embed.
    """
    font = register_font(find_cjk_font(font_path))
    s = _styles(font)
    head = header or header_for(report)
    rows = item_rows(report, items)
    counts = report.counts()
    tally = "，".join(f"{STATUS_NAMES[st]} {counts[st]} 项" for st in STATUSES)
    manual = [r for r in rows if r.status == "manual"]

    story: list[Any] = [
        _p("电子档案四性检测报告", s["title"]),
        _p("依据 DA/T 70-2018《文书类电子档案检测一般要求》", s["subtitle"]),
        _header_table(head, verdict(report), s, font),
        Spacer(1, 3 * mm),
        _p(f"共 {len(rows)} 项：{tally}。", s["base"]),
        _p("检测项目", s["h2"]),
        _items_table(rows, s, font),
        _p("按属性统计", s["h2"]),
        _totals_table(rows, s, font),
        _p("人工检测清单", s["h2"]),
        _manual_table(manual, s, font) if manual else _p("无。", s["base"]),
        Spacer(1, 12 * mm),
        _p("检测人：________________　　审核人：________________　　日期：________________", s["bold"]),
    ]

    return build_pdf(
        story,
        font=font,
        footer=lambda page: f"{head.subject} · {head.stage_name}检测报告 · 第 {page} 页",
        title=f"电子档案四性检测报告 {head.subject}",
        subject=f"DA/T 70-2018 {head.stage_name}环节检测",
        margins=(18 * mm, 18 * mm, 16 * mm, 18 * mm),
    )


def build_pdf(
    story: list[Any],
    *,
    font: str,
    footer: Callable[[int], str],
    title: str,
    subject: str,
    pagesize: tuple[float, float] = A4,
    margins: tuple[float, float, float, float] = (18 * mm, 18 * mm, 16 * mm, 18 * mm),
) -> bytes:
    """Lay out ``story`` on ``pagesize`` pages with a centred footer line per page; the PDF's bytes.

    ``margins`` are left, right, top, bottom; ``invariant`` output (same input, same bytes).
    """

    def draw_footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(pagesize[0] / 2, 10 * mm, footer(doc.page))
        canvas.restoreState()

    left, right, top, bottom = margins
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=left,
        rightMargin=right,
        topMargin=top,
        bottomMargin=bottom,
        title=title,
        author="edossier",
        subject=subject,
        invariant=True,
    )
    doc.build(story, onFirstPage=draw_footer, onLaterPages=draw_footer)
    return buffer.getvalue()
