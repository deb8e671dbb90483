"""A detection report as one JSON document: ``{"header": …, "report": DetectionReport.as_dict()}``.

The ``report`` member is exactly what :mod:`integrity.reports.store` keeps and
:func:`integrity.reports.store.report_from_json` reads back.
"""

from __future__ import annotations

import json

from integrity.checks.model import DetectionReport
from integrity.reports.header import ReportHeader, header_for


def render_json(report: DetectionReport, header: ReportHeader | None = None) -> str:
    """UTF-8 JSON text (Chinese kept as characters, two-space indent, trailing newline)."""
    head = header or header_for(report)
    doc = {"header": head.as_dict(), "report": report.as_dict()}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
