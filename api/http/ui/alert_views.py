"""Recorded alerts (catalog table ``alerts``) shaped for the dashboard's alert list (pure).

Each alert gets its Chinese kind and severity names, its time in China Standard Time and links to
the pages that hold its evidence: the audit run (``details.run_id``) and the dossier
(``details.archive_id``). For auditors every text naming the 副卷 is replaced
(:func:`api.http.ui.views.redact_secondary`). Reading rows is :func:`integrity.alerts.catalog.list_alerts`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from api.http.ui.views import redact_secondary, when
from archive.catalog.models import Alert as AlertRow
from integrity.alerts.model import KIND_TITLES, SEVERITY_TITLES

#: The alert list's state filter: query value → acknowledged (None: all).
STATES: dict[str, bool | None] = {"open": False, "acknowledged": True, "all": None}
STATE_NAMES = {"open": "未处理", "acknowledged": "已确认", "all": "全部"}
KIND_NAMES: dict[str, str] = {kind.value: title for kind, title in KIND_TITLES.items()}
SEVERITY_NAMES: dict[str, str] = {s.value: title for s, title in SEVERITY_TITLES.items()}


@dataclass(frozen=True)
class AlertLine:
    id: int
    kind: str
    kind_name: str
    severity: str
    severity_name: str
    subject: str
    message: str
    created: str
    evidence_link: str
    details: tuple[tuple[str, str], ...]
    links: tuple[tuple[str, str], ...]  # (label, href) within the dashboard
    acknowledged: str | None  # "2025-03-01 10:00:00 (UTC+8)，by <token id>"


def _details(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {"details_json": text}
    return value if isinstance(value, dict) else {"details": value}


def alert_line(row: AlertRow, *, hide_secondary: bool) -> AlertLine:
    """One alert for the list; ``hide_secondary`` for roles that may not see the 副卷."""
    details = _details(row.details_json)
    subject, message, link = row.subject, row.message, row.evidence_link
    if hide_secondary:
        details = redact_secondary(details)
        subject, message, link = redact_secondary([subject, message, link])
    links = []
    if isinstance(details.get("run_id"), str) and details["run_id"]:
        links.append(("审计批次", f"/ui/audits/{quote(details['run_id'], safe='')}"))
    if isinstance(details.get("archive_id"), str) and details["archive_id"]:
        links.append(("卷宗", f"/ui/dossiers/{quote(details['archive_id'], safe='')}"))
    shown = tuple(
        (str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True))
        for k, v in sorted(details.items())
    )
    acknowledged = (
        f"{when(row.acknowledged_at)}，确认人 {row.acknowledged_by or '—'}" if row.acknowledged_at else None
    )
    return AlertLine(
        id=row.id,
        kind=row.kind,
        kind_name=KIND_NAMES.get(row.kind, row.kind),
        severity=row.severity,
        severity_name=SEVERITY_NAMES.get(row.severity, row.severity),
        subject=subject,
        message=message,
        created=when(row.created_at),
        evidence_link=link,
        details=shown,
        links=tuple(links),
        acknowledged=acknowledged,
    )


def parse_state(text: str) -> str:
    """The state filter (``open`` by default).

    Raises:
        ValueError: not one of :data:`STATES`.
    """
    state = text.strip() or "open"
    if state not in STATES:
        raise ValueError(f"state: expected one of {', '.join(STATES)}; found {text[:20]!r}")
    return state


def parse_kind(text: str) -> str | None:
    """The kind filter (blank: every kind).

    Raises:
        ValueError: not an :class:`~integrity.alerts.model.AlertKind`.
    """
    kind = text.strip()
    if kind and kind not in KIND_NAMES:
        raise ValueError(f"kind: expected one of {', '.join(KIND_NAMES)}; found {text[:30]!r}")
    return kind or None
