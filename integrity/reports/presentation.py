"""A detection report as people read it: one row per item, per-property totals, the manual checklist.

The HTML and PDF renderers share this so that both show the same words. Item names and properties
come from the registry entries passed in (``StageItem`` by id), by default the whole DA/T 70 registry
(:func:`integrity.checks.registry.load_registry`); an item missing there still gets a row, its
property read from the id's property digit (DA/T 70 §1.1: 1 真实性, 2 完整性, 3 可用性, 4 安全性) and
no name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from integrity.checks.model import PROPERTIES, STATUSES, DetectionReport, ItemResult, StageItem, Status
from integrity.checks.registry import load_registry

STATUS_NAMES: dict[str, str] = {
    "pass": "通过",
    "fail": "不通过",
    "warn": "警告",
    "not_run": "未检测",
    "manual": "人工检测",
    "not_applicable": "不适用",
}
PROPERTY_ORDER: tuple[str, ...] = tuple(PROPERTIES.values())
CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


@dataclass(frozen=True)
class ItemRow:
    """One line of the item table."""

    item: str
    name: str
    property: str
    status: Status
    status_name: str
    summary: str
    details: tuple[str, ...]  # evidence, problems, reason — one sentence each
    checklist: str | None


@dataclass(frozen=True)
class PropertyTotals:
    """Counts of each status for one property (真实性 …), plus their sum."""

    property: str
    counts: Mapping[str, int]
    total: int


def property_of(item_id: str) -> str:
    """The property of a stage-item id ``GD-1-1`` from its property digit; ``""`` when malformed."""
    parts = item_id.split("-")
    return PROPERTIES.get(parts[1], "") if len(parts) == 3 else ""


def _details(result: ItemResult) -> tuple[str, ...]:
    out = [f"检查：{e.read}；应为：{e.expected}；实为：{e.found}" for e in result.evidence]
    for p in result.problems:
        where = p.path or ""
        if p.line:
            where += f":{p.line}"
        out.append(f"[{p.code}] {where + ' ' if where else ''}{p.message}")
    if result.reason:
        out.append(f"原因：{result.reason}")
    return tuple(out)


def registry_items() -> dict[str, StageItem]:
    """Every stage-item of the DA/T 70 registry by id.

    Raises:
        integrity.checks.registry.RegistryInvalid, OSError: the packaged registry is broken (a build fault).
    """
    return {i.id: i for i in load_registry()}


def item_rows(report: DetectionReport, items: Mapping[str, StageItem] | None = None) -> list[ItemRow]:
    """One row per result, in the report's (registry) order; ``items`` defaults to :func:`registry_items`."""
    known = registry_items() if items is None else items
    rows = []
    for r in report.results:
        entry = known.get(r.item)
        rows.append(
            ItemRow(
                item=r.item,
                name=entry.name if entry else "",
                property=entry.property if entry else property_of(r.item),
                status=r.status,
                status_name=STATUS_NAMES[r.status],
                summary=r.summary,
                details=_details(r),
                checklist=r.checklist,
            )
        )
    return rows


def property_totals(rows: list[ItemRow]) -> list[PropertyTotals]:
    """Status counts per property in DA/T 70 order (真实性, 完整性, 可用性, 安全性), then any other."""
    order = list(PROPERTY_ORDER) + sorted({r.property for r in rows} - set(PROPERTY_ORDER))
    out = []
    for prop in order:
        counts: dict[str, int] = {s: 0 for s in STATUSES}
        for r in rows:
            if r.property == prop:
                counts[r.status] += 1
        out.append(PropertyTotals(property=prop or "（未知）", counts=counts, total=sum(counts.values())))
    return out


def verdict(report: DetectionReport) -> str:
    """One Chinese word for the whole report; zero results never count as passed (STYLE: aggregates)."""
    if not report.passed and report.results:
        return "不通过"
    if not any(r.status in ("pass", "warn") for r in report.results):
        return "未检测"  # nothing was actually checked: never say 通过
    return "通过"


def local_time(moment: dt.datetime) -> str:
    """``moment`` in China Standard Time (UTC+8), to the second, e.g. ``2024-12-09 10:00:00 (UTC+8)``."""
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S (UTC+8)")
