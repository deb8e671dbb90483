"""Transfer-level findings and how they enter a DA/T 70 YJ detection report (pure).

The court checks of :mod:`integrity.checks` judge one record's court package. What only the
transfer package can show — 目录文件 ↔ folders, 说明文件/移交清单 counts, 固化信息 digests, the EEP
signatures, the signed 登记表 — is a :class:`Finding` tied to the YJ item it belongs to (``YJ-1-13``
…) and to one record (its 档号) or to the whole package (``record`` None, so every record's report
shows it). :func:`apply_findings` adds the findings to the report: a ``fail`` finding makes its item
``fail`` (whatever the court check said); a ``warn`` finding turns a ``pass`` into ``warn``. Every
finding has a Chinese message for archivists and an English one for logs and ``--json``.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from integrity.checks.model import DetectionReport, Evidence, ItemResult
from integrity.checks.registry import get_item
from standards.problems import Problem

Severity = Literal["fail", "warn"]
NAMES_FILE = Path(__file__).with_name("items_en.csv")
TRANSFER_SCOPE = "移交信息包（说明文件、目录文件、移交清单、固化信息、登记表、电子档案封装包）"


@dataclass(frozen=True)
class Finding:
    """One transfer-level result: the YJ item, a stable code, messages in Chinese and English."""

    item: str  # e.g. "YJ-1-14"
    code: str
    zh: str
    en: str
    path: str | None = None
    record: str | None = None  # the record 档号; None: the whole package
    severity: Severity = "fail"

    def problem(self) -> Problem:
        return Problem(self.code, self.zh, self.item, self.path)

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "code": self.code,
            "severity": self.severity,
            "record": self.record,
            "path": self.path,
            "message_zh": self.zh,
            "message_en": self.en,
        }


@functools.cache
def english_names() -> dict[str, str]:
    """Global item number (``1-14``) → English name of the DA/T 70 item."""
    with NAMES_FILE.open(encoding="utf-8", newline="") as fh:
        return {row["number"]: row["name_en"] for row in csv.DictReader(fh)}


def english_name(item: str) -> str:
    number = item.split("-", 1)[1] if "-" in item else item
    return english_names().get(number, item)


def findings_for(findings: Iterable[Finding], record: str) -> list[Finding]:
    """The findings that concern ``record``: its own and the package-wide ones."""
    return [f for f in findings if f.record in (None, record)]


def _name(item: str) -> str:
    try:
        return get_item(item).name
    except KeyError:
        return item


def _with_findings(result: ItemResult, fails: Sequence[Finding], warns: Sequence[Finding]) -> ItemResult:
    name = _name(result.item)
    extra = tuple(f.problem() for f in (*fails, *warns))
    shown = "；".join(f.zh for f in (*fails, *warns)[:3])
    more = f"；另有 {len(fails) + len(warns) - 3} 个" if len(fails) + len(warns) > 3 else ""
    evidence = Evidence(
        TRANSFER_SCOPE, "与目录文件、移交清单、固化信息、签名一致", f"发现 {len(extra)} 个问题：{shown}{more}"
    )
    if fails:
        return dataclasses.replace(
            result,
            status="fail",
            summary=f"{name}不通过：移交信息包检查发现 {len(fails)} 个问题",
            evidence=(*result.evidence, evidence),
            problems=(*result.problems, *extra),
            reason=None,
            checklist=None,
        )
    if result.status == "pass":
        return dataclasses.replace(
            result,
            status="warn",
            summary=f"{name}：{warns[0].zh}",
            evidence=(*result.evidence, evidence),
            problems=(*result.problems, *extra),
        )
    return dataclasses.replace(
        result, evidence=(*result.evidence, evidence), problems=(*result.problems, *extra)
    )


def apply_findings(report: DetectionReport, findings: Iterable[Finding]) -> DetectionReport:
    """``report`` with each finding added to the result of its item (see the module docstring).

    Raises:
        ValueError: a finding names an item the report does not have (a caller bug).
    """
    by_item: dict[str, list[Finding]] = {}
    for f in findings:
        by_item.setdefault(f.item, []).append(f)
    known = {r.item for r in report.results}
    unknown = sorted(set(by_item) - known)
    if unknown:
        raise ValueError(f"findings for items not in the {report.stage} report: {', '.join(unknown)}")
    results = []
    for result in report.results:
        mine = by_item.get(result.item, [])
        fails = [f for f in mine if f.severity == "fail"]
        warns = [f for f in mine if f.severity == "warn"]
        results.append(_with_findings(result, fails, warns) if mine else result)
    return dataclasses.replace(report, results=tuple(results))


def report_failures(report: DetectionReport, record: str | None) -> list[Finding]:
    """Every problem of a failed item of ``report`` as a :class:`Finding` (English text from the item name)."""
    out: list[Finding] = []
    for result in report.results:
        if result.status != "fail":
            continue
        problems = result.problems or (Problem("detection_item_failed", result.summary, result.item),)
        for p in problems:
            en = f"{result.item} ({english_name(result.item)}) failed: {p.code}" + (
                f" at {p.path}" if p.path else ""
            )
            out.append(Finding(result.item, p.code, p.message, en, p.path, record))
    return out


def failures_of(findings: Sequence[Finding], reports: Iterable[tuple[str, DetectionReport]]) -> list[Finding]:
    """Every reason to refuse: failing findings first, then the court checks' failures of each
    ``(record 档号, report)`` not already named by a finding of the same item and code."""
    out = [f for f in findings if f.severity == "fail"]
    seen = {(f.item, f.code, f.record) for f in out}
    for record, report in reports:
        for f in report_failures(report, record):
            if (f.item, f.code, f.record) not in seen and (f.item, f.code, None) not in seen:
                out.append(f)
    return out
