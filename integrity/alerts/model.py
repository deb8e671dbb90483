"""The alert value: what happened, to which subject, how bad, and where the evidence is.

An :class:`Alert` is a frozen value built by whoever noticed the problem (the audit runner, the
ledger signer, the overdue-archiving check). Its ``dedupe_key`` says which alerts are "the same
alert again" — by default the kind and the subject — so the dispatcher can suppress repeats.
Classifying the cause (an outage is ``unreachable``, never ``incident``) is the caller's job.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertKind(StrEnum):
    """What an alert is about."""

    INCIDENT = "incident"  # evidence of tampering or loss: digest mismatch, missing object, broken lock
    UNREACHABLE = "unreachable"  # storage or database could not be reached (an outage, not tampering)
    OVERDUE_AUDIT = "overdue_audit"  # a scheduled audit has not run in time
    SIGNING_FAILURE = "signing_failure"  # a checkpoint or receipt could not be signed
    OVERDUE_ARCHIVING = "overdue_archiving"  # a closed case is not archived in time


class Severity(StrEnum):
    """How urgently a person must look."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


#: Order used when only some alerts can go out individually: the worst first.
SEVERITY_RANK: dict[Severity, int] = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}

#: Default severity of each kind.
DEFAULT_SEVERITY: dict[AlertKind, Severity] = {
    AlertKind.INCIDENT: Severity.CRITICAL,
    AlertKind.UNREACHABLE: Severity.WARNING,
    AlertKind.OVERDUE_AUDIT: Severity.WARNING,
    AlertKind.SIGNING_FAILURE: Severity.CRITICAL,
    AlertKind.OVERDUE_ARCHIVING: Severity.WARNING,
}

#: Chinese title of each kind (used as the default alert title and in summaries).
KIND_TITLES: dict[AlertKind, str] = {
    AlertKind.INCIDENT: "完整性事件",
    AlertKind.UNREACHABLE: "存储不可达",
    AlertKind.OVERDUE_AUDIT: "审计逾期",
    AlertKind.SIGNING_FAILURE: "签名失败",
    AlertKind.OVERDUE_ARCHIVING: "归档逾期",
}

SEVERITY_TITLES: dict[Severity, str] = {
    Severity.CRITICAL: "严重",
    Severity.WARNING: "警告",
    Severity.INFO: "提示",
}


def evidence_link(subject: str, template: str | None = None) -> str:
    """Where a person finds the evidence for ``subject``.

    Without a template, the CLI command that shows it; with one, the template with ``{subject}``
    replaced by the URL-quoted subject.

    >>> evidence_link("A-1")
    'edossier report A-1'
    >>> evidence_link("(2024)京01民初1号", "https://archive.example/ui/reports/{subject}")
    'https://archive.example/ui/reports/%282024%29%E4%BA%AC01%E6%B0%91%E5%88%9D1%E5%8F%B7'

    Raises:
        ValueError: ``subject`` is empty or the template has no ``{subject}`` field.
    """
    if not subject:
        raise ValueError("evidence link: subject must not be empty")
    if template is None:
        return f"edossier report {subject}"
    if "{subject}" not in template:
        raise ValueError(f"evidence URL template: expected a {{subject}} field, found {template!r}")
    return template.replace("{subject}", urllib.parse.quote(subject, safe=""))


@dataclass(frozen=True)
class Alert:
    """One alert. Build it with :meth:`create` unless every field is already known.

    ``created_at`` must be timezone-aware; ``dedupe_key`` identifies repeats of the same alert.
    """

    kind: AlertKind
    severity: Severity
    title: str
    message: str
    subject: str
    evidence_link: str
    dedupe_key: str
    created_at: datetime
    details: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        """Reject values no caller should build.

        Raises:
            ValueError: an empty subject, title or dedupe key, or a naive ``created_at``.
            TypeError: ``kind`` or ``severity`` is not one of the enums' values.
        """
        object.__setattr__(self, "kind", AlertKind(self.kind))
        object.__setattr__(self, "severity", Severity(self.severity))
        for name in ("title", "subject", "dedupe_key", "evidence_link"):
            if not getattr(self, name):
                raise ValueError(f"alert {name}: must not be empty")
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError(f"alert created_at: expected a timezone-aware time, found {self.created_at}")

    @classmethod
    def create(
        cls,
        kind: AlertKind | str,
        subject: str,
        message: str,
        *,
        now: datetime,
        evidence_link: str | None = None,
        severity: Severity | str | None = None,
        title: str | None = None,
        dedupe_key: str | None = None,
        details: dict[str, str] | None = None,
    ) -> Alert:
        """An alert with the defaults filled in: severity and Chinese title from the kind,
        dedupe key ``<kind>:<subject>``, evidence link ``edossier report <subject>``.

        Raises:
            ValueError: an unknown kind or severity, an empty subject, or a naive ``now``.
        """
        kind = AlertKind(kind)
        return cls(
            kind=kind,
            severity=Severity(severity) if severity is not None else DEFAULT_SEVERITY[kind],
            title=title or KIND_TITLES[kind],
            message=message,
            subject=subject,
            evidence_link=evidence_link or f"edossier report {subject}",
            dedupe_key=dedupe_key or f"{kind.value}:{subject}",
            created_at=now,
            details=dict(details or {}),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 with offset)."""
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "subject": self.subject,
            "evidence_link": self.evidence_link,
            "dedupe_key": self.dedupe_key,
            "created_at": self.created_at.isoformat(),
            "details": dict(self.details),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alert:
        """The inverse of :meth:`to_json`.

        Raises:
            ValueError: a field is missing or has the wrong form.
        """
        try:
            return cls(
                kind=AlertKind(data["kind"]),
                severity=Severity(data["severity"]),
                title=str(data["title"]),
                message=str(data["message"]),
                subject=str(data["subject"]),
                evidence_link=str(data["evidence_link"]),
                dedupe_key=str(data["dedupe_key"]),
                created_at=datetime.fromisoformat(str(data["created_at"])),
                details={str(k): str(v) for k, v in dict(data.get("details", {})).items()},
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"alert JSON: missing or malformed field ({exc})") from None
