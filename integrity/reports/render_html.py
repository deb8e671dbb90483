"""A detection report as one self-contained HTML page (Jinja2, autoescaping always on).

Every value from a report (summaries, evidence, file names from a submitted package) is untrusted
text: the environment escapes everything and no template marks anything ``|safe``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from integrity.checks.model import STATUSES, DetectionReport, StageItem
from integrity.reports.header import ReportHeader, header_for
from integrity.reports.presentation import (
    STATUS_NAMES,
    item_rows,
    local_time,
    property_totals,
    verdict,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _environment() -> Environment:
    # autoescape=True, not select_autoescape(): our names end in ".html.j2", which it would not escape.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    report: DetectionReport,
    header: ReportHeader | None = None,
    items: Mapping[str, StageItem] | None = None,
) -> str:
    """The HTML page of ``report``; ``items`` (registry entries by id) supply item names;
    by default the DA/T 70 registry (:func:`integrity.reports.presentation.registry_items`).

    Raises:
        jinja2.TemplateNotFound: the templates were not installed with the package.
    """
    head = header or header_for(report)
    rows = item_rows(report, items)
    template = _environment().get_template("report.html.j2")
    return template.render(
        header=head,
        created=local_time(head.created_at),
        verdict=verdict(report),
        counts=report.counts(),
        statuses=STATUSES,
        status_names=STATUS_NAMES,
        rows=rows,
        totals=property_totals(rows),
        manual=[r for r in rows if r.status == "manual"],
    )
