"""Values of four-property detection (DA/T 70-2018): registry entries, results, evidence, context.

Every detection item of the standard is a *stage-item* keyed exactly by its id (``GD-1-1`` …
``BC-4-9``; the standard's numbering has gaps). A check is a function ``check(ctx) -> ItemResult``
registered for a global item number (``1-1``) and run for whichever stage ``ctx.stage`` names.
Results are never "pass" by default: ``not_run`` (e.g. no virus scanner configured) and ``manual``
are counted apart from ``pass``. This module only holds values; checks live beside it and the
engine (:mod:`integrity.checks.engine`) runs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from standards.package import StagedPackage
from standards.problems import Problem

Status = Literal["pass", "fail", "warn", "not_run", "manual", "not_applicable"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "not_run", "manual", "not_applicable")
Stage = Literal["GD", "YJ", "BC"]
STAGES: tuple[Stage, ...] = ("GD", "YJ", "BC")
Mode = Literal["automated", "manual", "not_applicable"]

# DA/T 70 §1.1: property digit → name
PROPERTIES = {"1": "真实性", "2": "完整性", "3": "可用性", "4": "安全性"}
STAGE_NAMES = {"GD": "归档", "YJ": "移交与接收", "BC": "长期保存"}


@dataclass(frozen=True)
class StageItem:
    """One row of the registry: a DA/T 70 item as it applies to one stage."""

    id: str  # e.g. "GD-1-1"
    number: str  # the global item number, e.g. "1-1"
    name: str  # Chinese name from the standard, e.g. "固化信息有效性检测"
    property: str  # 真实性 | 完整性 | 可用性 | 安全性
    stage: Stage
    mode: Mode  # how edossier answers it
    check: str  # dotted path "module:function" of the check callable


@dataclass(frozen=True)
class Evidence:
    """What was read, what was expected, what was found (Chinese or plain values, for the report)."""

    read: str
    expected: str
    found: str


@dataclass(frozen=True)
class ItemResult:
    """The answer to one stage-item.

    ``summary`` is one Chinese sentence for the report; ``reason`` is required for ``not_run`` and
    ``not_applicable``; ``checklist`` is required for ``manual`` (what a person must confirm and
    where to record it); ``problems`` are the package problems behind a ``fail``/``warn``.
    """

    item: str
    status: Status
    summary: str
    evidence: tuple[Evidence, ...] = ()
    problems: tuple[Problem, ...] = ()
    reason: str | None = None
    checklist: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status: expected one of {STATUSES}, found {self.status!r}")
        if self.status in ("not_run", "not_applicable") and not self.reason:
            raise ValueError(f"{self.item}: a {self.status} result must carry a reason")
        if self.status == "manual" and not self.checklist:
            raise ValueError(f"{self.item}: a manual result must say what a person must confirm (checklist)")

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "status": self.status,
            "summary": self.summary,
            "evidence": [e.__dict__ for e in self.evidence],
            "problems": [p.as_dict() for p in self.problems],
            "reason": self.reason,
            "checklist": self.checklist,
        }


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may read. Checks are pure over this; the runner gathers it (I/O).

    ``package`` is the staged package (GD/YJ) or the package re-read from the store (BC);
    ``validation`` the court-package validation report (standards.validation.ValidationReport) when
    the package is a court package; ``facts`` holds results the runner gathered from services
    (virus scanner answers, store read speed, catalog lookups, environment), keyed by name —
    each check documents the keys it reads and answers ``not_run`` when its fact is absent.
    """

    stage: Stage
    now: dt.datetime
    package: StagedPackage | None = None
    validation: Any = None  # standards.validation.ValidationReport (Any: avoids an import cycle)
    facts: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)  # policy (allowed formats, archive rules, ...)
    files_root: Path | None = None  # where package files can be opened (staging root)

    def item_id(self, number: str) -> str:
        return f"{self.stage}-{number}"


@dataclass(frozen=True)
class DetectionReport:
    """Every stage-item of one stage for one package, in registry order."""

    stage: Stage
    subject: str  # 案号 / archive id / submission id
    created_at: dt.datetime
    results: tuple[ItemResult, ...]
    tool_version: str = ""
    ledger_position: int | None = None

    @property
    def passed(self) -> bool:
        """No ``fail`` and at least one result (an aggregate of zero checks has not passed)."""
        return bool(self.results) and all(r.status != "fail" for r in self.results)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {s: 0 for s in STATUSES}
        for r in self.results:
            out[r.status] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "subject": self.subject,
            "created_at": self.created_at.isoformat(),
            "tool_version": self.tool_version,
            "ledger_position": self.ledger_position,
            "passed": self.passed,
            "counts": self.counts(),
            "results": [r.as_dict() for r in self.results],
        }
