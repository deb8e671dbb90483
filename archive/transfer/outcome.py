"""The answers of ``export`` and ``import``: per-record results and the outcome, with their ``--json`` form.

Values only; :mod:`archive.transfer.export` and :mod:`archive.transfer.accession` build them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.transfer.eep_check import EepOutcome
from archive.transfer.findings import Finding
from archive.transfer.register import report_sha256
from archive.transfer.selection import Selected
from integrity.checks.model import DetectionReport


# ------------------------------------------------------------------ export (sender)
@dataclass(frozen=True)
class SentRecord:
    """One record as exported: where it went, its YJ report, EEP digest and (once recorded) its ledger leaf."""

    selected: Selected
    report: DetectionReport
    eep: EepOutcome
    eep_sha256: str
    report_id: str | None = None
    leaf_index: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "archival_code": self.selected.code.text,
            "case_number": self.selected.case_number,
            "archive_id": self.selected.archive_id,
            "folder": self.selected.code.folder,
            "yj_passed": self.report.passed,
            "yj_counts": self.report.counts(),
            "failed_items": [r.item for r in self.report.results if r.status == "fail"],
            "report_id": self.report_id,
            "report_sha256": report_sha256(self.report),
            "eep_sha256": self.eep_sha256,
            "eep": self.eep.as_dict(),
            "leaf_index": self.leaf_index,
        }


@dataclass(frozen=True)
class ExportOutcome:
    """The answer of :func:`export_transfer`: written or not, and why."""

    written: bool
    target: Path
    transfer_id: str
    records: tuple[SentRecord, ...]
    failures: tuple[Finding, ...] = ()
    file_count: int = 0
    total_bytes: int = 0
    register_sha256: str | None = None
    certificate_sha256: str | None = None
    warnings: tuple[Finding, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "path": str(self.target),
            "transfer_id": self.transfer_id,
            "yj_passed": bool(self.records)
            and all(r.report.passed for r in self.records)
            and not self.failures,
            "records": [r.as_dict() for r in self.records],
            "failures": [f.as_dict() for f in self.failures],
            "warnings": [f.as_dict() for f in self.warnings],
            "file_count": self.file_count,
            "total_bytes": self.total_bytes,
            "register_sha256": self.register_sha256,
            "certificate_sha256": self.certificate_sha256,
        }


# ------------------------------------------------------------------ import (receiver)
@dataclass(frozen=True)
class ReceivedRecord:
    """One record of the package as the receiver judged it (and, when accepted, archived it)."""

    archival_code: str
    case_number: str | None
    sender_archive_id: str | None
    report: DetectionReport
    eep: EepOutcome
    eep_sha256: str | None
    duplicate_of: str | None = None
    archive_id: str | None = None
    ingest_status: str | None = None
    report_id: str | None = None
    leaf_index: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "archival_code": self.archival_code,
            "case_number": self.case_number,
            "sender_archive_id": self.sender_archive_id,
            "yj_passed": self.report.passed,
            "yj_counts": self.report.counts(),
            "failed_items": [r.item for r in self.report.results if r.status == "fail"],
            "warned_items": [r.item for r in self.report.results if r.status == "warn"],
            "eep": self.eep.as_dict(),
            "eep_sha256": self.eep_sha256,
            "duplicate_of": self.duplicate_of,
            "archive_id": self.archive_id,
            "ingest_status": self.ingest_status,
            "report_id": self.report_id,
            "report_sha256": report_sha256(self.report),
            "leaf_index": self.leaf_index,
        }


@dataclass(frozen=True)
class ImportOutcome:
    """The answer of :func:`import_transfer`."""

    accepted: bool
    transfer_id: str | None
    records: tuple[ReceivedRecord, ...]
    failures: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    register_path: Path | None = None
    register_signature: str = "not_checked"  # valid | invalid | not_checked
    trust: str = "unverified"  # verified (configured roots) | unverified
    sender: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "transfer_id": self.transfer_id,
            "sender": self.sender,
            "trust": self.trust,
            "register_signature": self.register_signature,
            "register": str(self.register_path) if self.register_path else None,
            "records": [r.as_dict() for r in self.records],
            "failures": [f.as_dict() for f in self.failures],
            "warnings": [f.as_dict() for f in self.warnings],
        }
