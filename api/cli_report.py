"""``edossier report ID``: write the stored four-property detection report (DA/T 70-2018 检测报告).

``ID`` is a report id, a submission id, an archive id or a 案号; the latest report filed under it is
rendered as PDF, HTML or JSON (:mod:`integrity.reports`). ``-o FILE`` writes a file (required for
PDF); without it HTML and JSON go to stdout. Exit codes: 0 written, 1 no report for ``ID``, 2 usage
error, 3 database unavailable, stored report unreadable, or no CJK font for the PDF.
"""

from __future__ import annotations

import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from api import cli_output as ui
from api.cli_common import (
    EXIT_INVALID,
    DataDirOption,
    exit_unavailable,
    fail_usage,
    open_or_exit,
    settings_for,
)
from integrity.reports.render_html import render_html
from integrity.reports.render_json import render_json
from integrity.reports.store import StoredReport, find_latest_report
from standards.errors import EdossierError


class ReportFormat(StrEnum):
    pdf = "pdf"
    html = "html"
    json = "json"


def _exit_no_report(query: str) -> NoReturn:
    ui.err.print(f"not found: no detection report for report id, submission id, archive id or 案号 {query!r}")
    raise typer.Exit(EXIT_INVALID)


def _write(path: Path, data: bytes, force: bool) -> None:
    """Write via a temporary file in the same folder, so a reader never sees half a report."""
    if path.exists() and not force:
        fail_usage(f"{path} exists; pass --force to replace it")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render(stored: StoredReport, fmt: ReportFormat) -> bytes:
    """The bytes of ``stored`` in ``fmt`` (UTF-8 for HTML and JSON).

    Raises:
        ReportFontMissing, ReportFontUnsupported: PDF only — no usable CJK TrueType font.
    """
    header = stored.header()
    if fmt is ReportFormat.pdf:
        from integrity.reports.render_pdf import render_pdf  # reportlab is imported only for PDF

        return render_pdf(stored.report, header)
    if fmt is ReportFormat.html:
        return render_html(stored.report, header).encode("utf-8")
    return render_json(stored.report, header).encode("utf-8")


def report(
    query: Annotated[str, typer.Argument(help="Report id, submission id, archive id (ED-…) or 案号.")],
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")] = ReportFormat.pdf,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (required for pdf; else stdout).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Write the latest four-property detection report (检测报告) for a report, submission, dossier or 案号."""
    if fmt is ReportFormat.pdf and output is None:
        fail_usage("--format pdf needs --output FILE (a PDF is not written to a terminal)")
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json=False)
    try:
        with inst.sessions() as session:
            stored = find_latest_report(session, query)
        if stored is None:
            _exit_no_report(query)
        data = render(stored, fmt)
    except EdossierError as error:  # database down, unreadable row, no CJK font
        exit_unavailable(error, as_json=False)
    finally:
        inst.close()
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    _write(output, data, force)
    ui.err.print(f"检测报告已写入 {output}（{stored.report.subject}，{len(data)} 字节）", markup=False)
