"""The header block of a detection report: 案号, archive or submission id, stage, time, tool, ledger.

Pure values; the one lookup is :func:`installed_version` (``importlib.metadata``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from integrity.checks.model import STAGE_NAMES, DetectionReport

UNKNOWN_VERSION = "unknown"


def installed_version() -> str:
    """The installed version of the ``edossier`` distribution, or ``"unknown"`` when not installed."""
    try:
        return version("edossier")
    except PackageNotFoundError:
        return UNKNOWN_VERSION


@dataclass(frozen=True)
class ReportHeader:
    """What a reader needs to know about a report before its items."""

    report_id: str | None
    subject: str
    case_number: str | None
    archive_id: str | None
    submission_id: str | None
    stage: str  # GD | YJ | BC (DA/T 70 §1: 归档 / 移交与接收 / 长期保存)
    stage_name: str
    created_at: dt.datetime
    tool_version: str
    ledger_position: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "subject": self.subject,
            "case_number": self.case_number,
            "archive_id": self.archive_id,
            "submission_id": self.submission_id,
            "stage": self.stage,
            "stage_name": self.stage_name,
            "created_at": self.created_at.isoformat(),
            "tool_version": self.tool_version,
            "ledger_position": self.ledger_position,
        }


def header_for(
    report: DetectionReport,
    *,
    report_id: str | None = None,
    case_number: str | None = None,
    archive_id: str | None = None,
    submission_id: str | None = None,
) -> ReportHeader:
    """The header of ``report``; the tool version is the report's own, else the installed one."""
    return ReportHeader(
        report_id=report_id,
        subject=report.subject,
        case_number=case_number,
        archive_id=archive_id,
        submission_id=submission_id,
        stage=report.stage,
        stage_name=STAGE_NAMES[report.stage],
        created_at=report.created_at,
        tool_version=report.tool_version or installed_version(),
        ledger_position=report.ledger_position,
    )
