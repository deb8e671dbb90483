"""Typed results of ingest: what the case team gets back (receipt or precise rejection)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from integrity.checks.model import DetectionReport
from standards.problems import Problem

Status = Literal["archived", "already_archived", "rejected"]


@dataclass(frozen=True)
class Receipt:
    """Proof material handed back on success: the leaf and a signed checkpoint that covers it."""

    leaf_index: int
    leaf_hash_hex: str
    tree_size: int
    root_hex: str
    checkpoint: str  # C2SP signed note


@dataclass(frozen=True)
class IngestOutcome:
    status: Status
    submission_id: str
    archive_id: str | None = None
    case_number: str | None = None
    manifest_sha256: str | None = None
    leaf_index: int | None = None
    errors: tuple[Problem, ...] = field(default_factory=tuple)
    receipt: Receipt | None = None
    detection: DetectionReport | None = None  # the DA/T 70 GD stage report (None: the container was refused)
    report_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The ``edossier ingest --json`` object."""
        return {
            "status": self.status,
            "submission_id": self.submission_id,
            "archive_id": self.archive_id,
            "case_number": self.case_number,
            "manifest_digest": f"sha256:{self.manifest_sha256}" if self.manifest_sha256 else None,
            "leaf_index": self.leaf_index,
            "errors": [p.as_dict() for p in self.errors],
            "checkpoint": self.receipt.checkpoint if self.receipt else None,
            "report": self._report_json(),
        }

    def _report_json(self) -> dict[str, Any] | None:
        if self.detection is None:
            return None
        d = self.detection
        return {
            "id": self.report_id,
            "stage": d.stage,
            "passed": d.passed,
            "counts": d.counts(),
            "results": [
                {"item": r.item, "status": r.status, "summary": r.summary, "reason": r.reason}
                for r in d.results
            ],
        }
