"""Pure functions that shape catalog values into rows the dashboard templates print (no I/O).

Numbers and times are formatted for people (``1.2 MB``, China Standard Time); documents are grouped
by 卷别 with 副卷 left out for roles that may not see it; a detection report becomes a short summary;
audit evidence is flattened into label/value lines, and for auditors every text naming the 副卷 is
replaced (法释〔2002〕39号 art. 5: the 副卷 is internal). Reading the catalog is left to
:mod:`api.http.ui.readers`, the SVG chart to :mod:`api.http.ui.chart`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from integrity.audit.results import CheckResult
from integrity.checks.model import DetectionReport, StageItem
from integrity.merkle.proofs import check_inclusion
from integrity.reports.presentation import STATUS_NAMES, item_rows, local_time, verdict

PRIMARY_VOLUME, SECONDARY_VOLUME = "正卷", "副卷"
#: What an auditor sees in place of any text that names the internal volume.
REDACTED = "（副卷信息，已隐去）"
NO_VALUE = "—"
RUN_STATUS_NAMES: Mapping[str, str] = {
    "running": "进行中",
    "passed": "通过",
    "failed": "发现完整性事件",
    "unreachable": "存储不可达（未完成）",
}
OUTCOME_NAMES: Mapping[str, str] = {"ok": "正常", "incident": "完整性事件", "unreachable": "不可达"}
SCOPE_NAMES: Mapping[str, str] = {
    "fixity": "固定性核验",
    "full": "全面检测",
    "sample": "抽样检测",
    "reconcile": "目录与存储核对",
}
_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def format_bytes(size: int) -> str:
    """A byte count for people (binary multiples, one decimal above bytes).

    >>> format_bytes(512), format_bytes(1536), format_bytes(5 * 1024**3)
    ('512 B', '1.5 KB', '5.0 GB')
    """
    if size < 0:
        raise ValueError(f"size: expected >= 0; found {size}")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    return f"{size} B" if unit == 0 else f"{value:.1f} {_UNITS[unit]}"


def when(moment: dt.datetime | None) -> str:
    """A time in China Standard Time, or ``—``."""
    return NO_VALUE if moment is None else local_time(moment)


def mentions_secondary(text: str) -> bool:
    return SECONDARY_VOLUME in text


def redact_secondary(value: Any) -> Any:
    """``value`` (JSON-like) with every string that names the 副卷 replaced by :data:`REDACTED`.

    >>> redact_secondary({"path": "副卷/03-合议庭评议笔录.pdf", "n": [1, "正卷/01.pdf"]})
    {'path': '（副卷信息，已隐去）', 'n': [1, '正卷/01.pdf']}
    """
    if isinstance(value, str):
        return REDACTED if mentions_secondary(value) else value
    if isinstance(value, Mapping):
        return {k: redact_secondary(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_secondary(v) for v in value]
    return value


# ------------------------------------------------------------------ documents by 卷别
@dataclass(frozen=True)
class DocumentRow:
    sequence: int
    archival_code: str
    title: str
    date: dt.date
    volume: str
    pages: int
    format: str
    size: int
    sha256: str


@dataclass(frozen=True)
class VolumeGroup:
    """The documents of one 卷别, in sequence order, with their count and bytes."""

    volume: str
    documents: tuple[DocumentRow, ...]

    @property
    def total_bytes(self) -> int:
        return sum(d.size for d in self.documents)


def group_documents(documents: Iterable[DocumentRow], *, show_secondary: bool) -> list[VolumeGroup]:
    """正卷 first, then 副卷 (only with ``show_secondary``), then any other 卷别; empty groups dropped."""
    groups: dict[str, list[DocumentRow]] = {}
    for doc in documents:
        if doc.volume == SECONDARY_VOLUME and not show_secondary:
            continue
        groups.setdefault(doc.volume, []).append(doc)
    order = [PRIMARY_VOLUME, SECONDARY_VOLUME, *sorted(set(groups) - {PRIMARY_VOLUME, SECONDARY_VOLUME})]
    return [VolumeGroup(v, tuple(sorted(groups[v], key=lambda d: d.sequence))) for v in order if v in groups]


# ------------------------------------------------------------------ detection report (GD)
@dataclass(frozen=True)
class ReportLine:
    item: str
    name: str
    status_name: str
    summary: str


@dataclass(frozen=True)
class ReportSummary:
    """Verdict, time, counts by status (Chinese names) and the items that did not simply pass."""

    report_id: str
    stage: str
    verdict: str
    created: str
    counts: tuple[tuple[str, int], ...]
    attention: tuple[ReportLine, ...]


def report_summary(
    report_id: str,
    report: DetectionReport,
    *,
    hide_secondary: bool,
    items: Mapping[str, StageItem] | None = None,
) -> ReportSummary:
    """The summary of a stored detection report; failed, warned and not-run items are listed."""
    counts = tuple((STATUS_NAMES[s], n) for s, n in report.counts().items() if n)
    lines = []
    for row in item_rows(report, items):
        if row.status in ("fail", "warn", "not_run"):
            summary = REDACTED if hide_secondary and mentions_secondary(row.summary) else row.summary
            lines.append(ReportLine(row.item, row.name, row.status_name, summary))
    return ReportSummary(
        report_id, report.stage, verdict(report), when(report.created_at), counts, tuple(lines)
    )


# ------------------------------------------------------------------ ledger proof
@dataclass(frozen=True)
class ProofView:
    """Whether a dossier's inclusion proof verified here, against which tree."""

    verified: bool
    label: str
    index: int | None = None
    size: int | None = None
    root_hex: str | None = None
    signed: bool = False
    detail: str | None = None


def proof_view(
    index: int,
    size: int,
    leaf_hash: bytes,
    proof: Sequence[bytes],
    root: bytes,
    *,
    checkpoint_size: int | None,
) -> ProofView:
    """Verify the inclusion proof again (RFC 9162 §2.1.3.2) and say so: 已验证 or 验证失败."""
    result = check_inclusion(index, size, leaf_hash, proof, root)
    signed = checkpoint_size == size
    if result.ok:
        return ProofView(True, "已验证", index, size, root.hex(), signed)
    return ProofView(False, "验证失败", index, size, root.hex(), signed, f"{result.code}: {result.message}")


def proof_unavailable(code: str, message: str) -> ProofView:
    """The proof could not be built (no leaf, a missing node, a root mismatch)."""
    return ProofView(False, "无法验证", detail=f"{code}: {message}")


# ------------------------------------------------------------------ audits
def counts_line(counts: Mapping[str, Any]) -> str:
    """``检查 12 · 正常 11 · 完整性事件 1 · 不可达 0`` from a run's ``counts_json``."""
    parts = [f"检查 {counts.get('checked', 0)}"]
    parts += [f"{name} {counts.get(key, 0)}" for key, name in OUTCOME_NAMES.items()]
    return " · ".join(parts)


def evidence_lines(result: CheckResult, *, hide_secondary: bool) -> list[tuple[str, str]]:
    """The evidence of one audit result as ``(label, value)`` lines (nested values as JSON)."""
    evidence: Any = redact_secondary(result.evidence) if hide_secondary else result.evidence
    lines = []
    for key in sorted(evidence):
        value = evidence[key]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
        lines.append((str(key), text))
    return lines


def result_key(key: str, *, hide_secondary: bool) -> str:
    return REDACTED if hide_secondary and mentions_secondary(key) else key


def parse_year(text: str | None) -> int | None:
    """The 年度 of a search form: blank → ``None``; four digits → the year; otherwise ``ValueError``.

    >>> parse_year(" 2024 "), parse_year("")
    (2024, None)
    """
    if text is None or not text.strip():
        return None
    value = text.strip()
    if len(value) != 4 or not value.isdigit() or not 1949 <= int(value) <= 9999:
        raise ValueError(f"year: expected four digits 1949-9999; found {value[:20]!r}")
    return int(value)


def page_window(total: int, offset: int, limit: int) -> tuple[int | None, int | None]:
    """Offsets of the previous and next page (``None`` at either end)."""
    previous = max(0, offset - limit) if offset > 0 else None
    following = offset + limit if offset + limit < total else None
    return previous, following
