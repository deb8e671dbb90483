"""Deterministic PDFs for the sample dossier: text documents and wrapped JPEG scans.

Uses reportlab with ``invariant=1`` (fixed creation date and document ID), so the same inputs give
the same bytes. Chinese text uses the built-in CID font ``STSong-Light`` (Adobe-GB1), which needs no
font file; it is not embedded, so readers substitute a Song face. This module only renders bytes;
choosing the content and writing files is left to :mod:`archive.sample.generator`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
BODY_SIZE = 12.0
LEADING = 21.0
MARGIN = 72.0
_PAGE_W, _PAGE_H = A4
CHARS_PER_LINE = int((_PAGE_W - 2 * MARGIN) // BODY_SIZE)
CREATOR = "edossier sample generator (ReportLab)"

_font_ready = False


def _ensure_font() -> None:
    global _font_ready
    if not _font_ready:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _font_ready = True


def wrap_paragraph(text: str, width: int = CHARS_PER_LINE) -> list[str]:
    """Split ``text`` into lines of at most ``width`` characters; the first line is indented two spaces.

    Chinese text has no word breaks, so lines are cut by character count (each CJK glyph is one em).
    """
    if width < 3:
        raise ValueError(f"line width must be at least 3 characters, got {width}")
    text = "\u3000\u3000" + text
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _new_canvas(buf: io.BytesIO, *, title: str, author: str, subject: str) -> canvas.Canvas:
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(author)
    c.setSubject(subject)
    c.setCreator(CREATOR)
    return c


def _footer(c: canvas.Canvas, page: int, pages: int) -> None:
    c.setFont(FONT, 10.5)
    c.drawCentredString(_PAGE_W / 2, MARGIN / 2, f"第 {page} 页 共 {pages} 页")


def render_text_pdf(
    *,
    title: str,
    case_number: str,
    court_name: str,
    author: str,
    paragraphs: Sequence[str],
    pages: int,
) -> bytes:
    """A text PDF of exactly ``pages`` A4 pages.

    Page 1 carries the court name, the heading ``title`` and the 案号; every page has a running
    header with the 案号 and a footer "第 i 页 共 n 页". ``paragraphs`` are cycled until the pages are
    full, so any non-empty list fills any page count.

    Raises:
        ValueError: ``pages`` < 1 or ``paragraphs`` is empty.
    """
    if pages < 1:
        raise ValueError(f"pages must be >= 1, got {pages}")
    if not paragraphs:
        raise ValueError("paragraphs must not be empty")
    _ensure_font()
    lines = [line for p in paragraphs for line in wrap_paragraph(p)]
    buf = io.BytesIO()
    c = _new_canvas(buf, title=title, author=author, subject=case_number)
    cursor = 0
    for page in range(1, pages + 1):
        y = _PAGE_H - MARGIN
        c.setFont(FONT, 9)
        c.drawRightString(_PAGE_W - MARGIN, _PAGE_H - MARGIN / 2, case_number)
        if page == 1:
            c.setFont(FONT, 16)
            c.drawCentredString(_PAGE_W / 2, y, court_name)
            y -= 30
            c.setFont(FONT, 20)
            c.drawCentredString(_PAGE_W / 2, y, title)
            y -= 28
            c.setFont(FONT, BODY_SIZE)
            c.drawRightString(_PAGE_W - MARGIN, y, case_number)
            y -= 2 * LEADING
        c.setFont(FONT, BODY_SIZE)
        while y > MARGIN + LEADING:
            c.drawString(MARGIN, y, lines[cursor % len(lines)])
            cursor += 1
            y -= LEADING
        _footer(c, page, pages)
        c.showPage()
    c.save()
    return buf.getvalue()


def wrap_jpeg_pages(jpegs: Sequence[bytes], *, title: str, author: str, subject: str) -> bytes:
    """A PDF with one A4 page per JPEG, each image filling its page (the JPEG data is embedded as is).

    Raises:
        ValueError: ``jpegs`` is empty.
    """
    if not jpegs:
        raise ValueError("jpegs must not be empty")
    buf = io.BytesIO()
    c = _new_canvas(buf, title=title, author=author, subject=subject)
    saved = rl_config.useA85
    rl_config.useA85 = 0  # embed the DCT data raw, not ASCII85-inflated by a quarter
    try:
        for data in jpegs:
            c.drawImage(ImageReader(io.BytesIO(data)), 0, 0, width=_PAGE_W, height=_PAGE_H)
            c.showPage()
        c.save()
    finally:
        rl_config.useA85 = saved
    return buf.getvalue()
