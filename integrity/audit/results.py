"""Audit results and the pure decisions about them (issue 5, items 5 and 6).

A :class:`CheckResult` is one check of one object (``fixity``, ``ledger``, ``reconcile``,
``assemble`` or a DA/T 70 BC item id) with outcome ``ok``, ``incident`` (evidence of loss or
tampering) or ``unreachable`` (an outage, never tampering). The ``from_*`` functions translate what
the fixity, ledger, reconciliation and BC checks found; :func:`decide_status`, :func:`count_results`
and :func:`results_digest` make a run's verdict, totals and the digest named in ``audit.completed``.
Recording is left to :mod:`integrity.audit.recorder`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from archive.reconcile import Finding
from integrity.audit.assemble import Assembly
from integrity.audit.fixity import FixityResult
from integrity.audit.ledger_check import LedgerCheckResult
from integrity.canonical import canonical_json
from integrity.checks.model import ItemResult

Outcome = Literal["ok", "incident", "unreachable"]
RunStatus = Literal["running", "passed", "failed", "unreachable"]
STORE_KEY = "<store>"
RECONCILE_KEY = "<reconcile>"
#: Check name of the per-dossier AIP re-assembly result (scope ``full``).
ASSEMBLE_CHECK = "assemble"
#: How many problems / evidence lines of one BC item an audit result keeps (the counts are kept).
MAX_ITEM_EVIDENCE = 20


@dataclass(frozen=True)
class CheckResult:
    """One result as recorded: object, check, outcome and the evidence."""

    key: str
    check: str
    outcome: Outcome
    evidence: dict[str, Any]
    archive_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of a result (also what :func:`results_digest` hashes)."""
        return {
            "key": self.key,
            "check": self.check,
            "outcome": self.outcome,
            "archive_id": self.archive_id,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class AuditSummary:
    """What one audit run found: the verdict, counts, the incidents and the ledger leaf."""

    run_id: str
    scope: str
    status: RunStatus
    counts: dict[str, int]
    results_sha256: str
    results: list[CheckResult] = field(default_factory=list)
    leaf_index: int | None = None
    checkpoint: str | None = None
    ledger_error: str | None = None

    @property
    def incidents(self) -> list[CheckResult]:
        """Results that are evidence of loss or tampering."""
        return [r for r in self.results if r.outcome == "incident"]

    @property
    def unreachable(self) -> list[CheckResult]:
        """Results the store or database could not provide (outages)."""
        return [r for r in self.results if r.outcome == "unreachable"]

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``edossier audit run --json``."""
        return {
            "run_id": self.run_id,
            "scope": self.scope,
            "status": self.status,
            "counts": self.counts,
            "results_sha256": self.results_sha256,
            "leaf_index": self.leaf_index,
            "ledger_error": self.ledger_error,
            "incidents": [r.as_dict() for r in self.incidents],
            "results": [r.as_dict() for r in self.results],
        }


# ---------------------------------------------------------------- pure decisions
def from_fixity(result: FixityResult) -> CheckResult:
    """A fixity result as an audit result (``fixity`` check)."""
    evidence = dict(result.evidence) | {"fixity": result.outcome}
    return CheckResult(result.key, "fixity", result.severity, evidence, result.archive_id)


def from_ledger(result: LedgerCheckResult) -> CheckResult:
    """A ledger check as an audit result (``ledger`` check)."""
    return CheckResult(result.key, "ledger", result.outcome, dict(result.evidence), result.archive_id)


def from_findings(findings: Iterable[Finding], counts: dict[str, int]) -> list[CheckResult]:
    """Reconciliation findings merged per key (one result per object), plus one summary result.

    A key's outcome is its worst finding (``info`` findings such as orphans are ``ok`` with evidence).
    """
    rank = {"ok": 0, "unreachable": 1, "incident": 2}
    by_key: dict[str, list[Finding]] = {}
    for f in findings:
        by_key.setdefault(f.key or f"<{f.kind}>", []).append(f)
    out: list[CheckResult] = []
    for key, items in sorted(by_key.items()):
        outcome: Outcome = "ok"
        for f in items:
            severity: Outcome = "ok" if f.severity == "info" else f.severity
            if rank[severity] > rank[outcome]:
                outcome = severity
        evidence = {"findings": [f.as_dict() for f in items]}
        out.append(CheckResult(key, "reconcile", outcome, evidence))
    summary_outcome: Outcome = "ok"
    if any(r.outcome == "incident" for r in out):
        summary_outcome = "incident"
    elif any(r.outcome == "unreachable" for r in out):
        summary_outcome = "unreachable"
    out.append(CheckResult(RECONCILE_KEY, "reconcile", summary_outcome, {"counts": dict(counts)}))
    return out


def from_bc_item(result: ItemResult, key: str, archive_id: str, report_id: str | None) -> CheckResult:
    """One DA/T 70 BC item as an audit result (check = the item id, e.g. ``BC-3-4``).

    ``fail`` is an incident (the stored package no longer meets the item). Every other status —
    ``pass``, ``warn``, ``manual`` (a person must confirm), ``not_applicable`` and ``not_run``
    (a fact or a tool was missing) — is ``ok`` for the audit verdict: none of them is evidence of
    loss or tampering, and a missing tool is not an outage of the store. The item's own status is
    kept in the evidence (``status``), so ``not_run``/``manual`` stay visible in reports.

    >>> r = ItemResult("BC-2-7", "manual", "需人工", checklist="核对")
    >>> from_bc_item(r, "aips/A/v1/manifest.json", "A", None).evidence["status"]
    'manual'
    """
    evidence: dict[str, Any] = {
        "status": result.status,
        "summary": result.summary,
        "report_id": report_id,
    }
    if result.reason:
        evidence["reason"] = result.reason
    if result.checklist:
        evidence["checklist"] = result.checklist
    if result.evidence:
        evidence["evidence"] = [e.__dict__ for e in result.evidence[:MAX_ITEM_EVIDENCE]]
        evidence["evidence_count"] = len(result.evidence)
    if result.problems:
        evidence["problems"] = [p.as_dict() for p in result.problems[:MAX_ITEM_EVIDENCE]]
        evidence["problem_count"] = len(result.problems)
    outcome: Outcome = "incident" if result.status == "fail" else "ok"
    return CheckResult(key, result.item, outcome, evidence, archive_id)


def from_assembly(assembly: Assembly, key: str, archive_id: str, report_id: str | None) -> CheckResult:
    """The re-assembly of one AIP as an audit result: an incident when a file is missing or differs."""
    evidence = assembly.evidence() | {"report_id": report_id}
    outcome: Outcome = "incident" if assembly.problems else "ok"
    return CheckResult(key, ASSEMBLE_CHECK, outcome, evidence, archive_id)


def decide_status(results: Sequence[CheckResult]) -> RunStatus:
    """``failed`` on any incident, else ``unreachable`` on any outage, else ``passed``.

    An aggregate of zero checks has not passed: no results is ``unreachable`` (nothing was verified).
    """
    if any(r.outcome == "incident" for r in results):
        return "failed"
    if not results or any(r.outcome == "unreachable" for r in results):
        return "unreachable"
    return "passed"


def count_results(results: Sequence[CheckResult]) -> dict[str, int]:
    """Totals by outcome and by ``<check>.<outcome>``."""
    counts: dict[str, int] = {"checked": len(results), "ok": 0, "incident": 0, "unreachable": 0}
    for r in results:
        counts[r.outcome] += 1
        name = f"{r.check}.{r.outcome}"
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def results_digest(results: Sequence[CheckResult]) -> str:
    """SHA-256 (hex) of the canonical JSON (RFC 8785) of the results sorted by check and key."""
    ordered = sorted(results, key=lambda r: (r.check, r.key))
    return hashlib.sha256(canonical_json([r.as_dict() for r in ordered])).hexdigest()
