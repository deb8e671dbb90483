"""Alerts for late work (issue 5, items 7 and 8): cases not archived in time, objects not audited in time.

Pure: :func:`overdue_archiving_alerts` turns the overdue closed cases of the case ledger
(:class:`archive.cases.OverdueCase`, 结案后逾期未归档) into :data:`~.model.AlertKind.OVERDUE_ARCHIVING`
alerts, one per 案号; :func:`overdue_audit_alerts` turns the objects past their fixity deadline
(:class:`integrity.audit.coverage.OverdueObject`) into :data:`~.model.AlertKind.OVERDUE_AUDIT` alerts,
one per object key up to a limit and one roll-up alert for the rest.

Dedupe keys name only the case or object (``overdue_archiving:<案号>``, ``overdue_audit:fixity:<key>``),
never the day count, so a daily re-check raises "the same alert again": the dispatcher suppresses it
within its window and folds a flood into the daily summary. Evidence links are the CLI commands that
show the finding. Deciding what is overdue is left to :mod:`archive.cases` and
:mod:`integrity.audit.coverage`; reading the catalog and sending to :mod:`integrity.audit.overdue_check`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from integrity.alerts.model import Alert, AlertKind

if TYPE_CHECKING:  # value types only: this module never touches the catalog
    from archive.cases import OverdueCase
    from integrity.audit.coverage import OverdueObject

#: Where an archivist sees the overdue cases (the same list the alerts were built from).
ARCHIVING_EVIDENCE = "edossier cases overdue --json"
#: Subject and dedupe key of the roll-up alert for overdue objects beyond the per-object limit.
OTHER_OBJECTS_SUBJECT = "audit-coverage"
OTHER_OBJECTS_KEY = "overdue_audit:fixity:<others>"


def audit_evidence(max_age_days: int) -> str:
    """The CLI command that lists the objects overdue for fixity under ``max_age_days``.

    >>> audit_evidence(365)
    'edossier audit coverage --max-age-days 365'
    """
    return f"edossier audit coverage --max-age-days {max_age_days}"


def overdue_archiving_alert(case: OverdueCase, deadline_days: int, now: dt.datetime) -> Alert:
    """One alert for a closed case not archived ``deadline_days`` days after 结案日期.

    Raises:
        ValueError: ``now`` is naive or the case has an empty 案号.
    """
    deadline = case.closing_date + dt.timedelta(days=deadline_days)
    return Alert.create(
        AlertKind.OVERDUE_ARCHIVING,
        case.case_number,
        f"案号 {case.case_number}：{case.closing_date.isoformat()} 结案，应在结案后 {deadline_days} 日内"
        f"（最迟 {deadline.isoformat()}）归档，已逾期 {case.days_overdue} 日未归档；"
        f"承办部门 {case.department}，承办人 {case.judge}。",
        now=now,
        evidence_link=ARCHIVING_EVIDENCE,
        dedupe_key=f"{AlertKind.OVERDUE_ARCHIVING.value}:{case.case_number}",
        details={
            "case_number": case.case_number,
            "department": case.department,
            "judge": case.judge,
            "closing_date": case.closing_date.isoformat(),
            "deadline_days": str(deadline_days),
            "days_overdue": str(case.days_overdue),
        },
    )


def overdue_archiving_alerts(
    cases: Iterable[OverdueCase], deadline_days: int, now: dt.datetime
) -> list[Alert]:
    """One :func:`overdue_archiving_alert` per case, in the order given (most overdue first from the ledger).

    Raises:
        ValueError: ``now`` is naive or a case has an empty 案号.
    """
    return [overdue_archiving_alert(case, deadline_days, now) for case in cases]


def overdue_audit_alert(
    obj: OverdueObject, max_age_days: int, now: dt.datetime, tz: dt.tzinfo = dt.UTC
) -> Alert:
    """One alert for an object not verified (fixity) within ``max_age_days``; dates shown in ``tz``.

    Raises:
        ValueError: ``now`` is naive or the object key is empty.
    """
    last = (
        f"最近一次核验于 {obj.last_verified.astimezone(tz).date().isoformat()}"
        if obj.last_verified is not None
        else "归档以来从未核验"
    )
    return Alert.create(
        AlertKind.OVERDUE_AUDIT,
        obj.key,
        f"对象 {obj.key}：{last}，应每 {max_age_days} 日至少核验一次固定性"
        f"（期限 {obj.deadline.astimezone(tz).date().isoformat()}），已逾期 {obj.days_overdue} 日。",
        now=now,
        evidence_link=audit_evidence(max_age_days),
        dedupe_key=f"{AlertKind.OVERDUE_AUDIT.value}:fixity:{obj.key}",
        details={
            "key": obj.key,
            "check": "fixity",
            "last_verified": obj.last_verified.isoformat() if obj.last_verified else "",
            "deadline": obj.deadline.isoformat(),
            "max_age_days": str(max_age_days),
            "days_overdue": str(obj.days_overdue),
        },
    )


def overdue_audit_alerts(
    objects: Sequence[OverdueObject],
    max_age_days: int,
    now: dt.datetime,
    *,
    limit: int,
    tz: dt.tzinfo = dt.UTC,
) -> list[Alert]:
    """One alert per object for the first ``limit`` objects, and one roll-up alert counting the rest.

    ``objects`` should be most overdue first (as :func:`~integrity.audit.coverage.overdue_objects` sorts
    them), so the same objects get their own alert day after day. The limit keeps an installation whose
    audits never ran (every object late) from writing one alert per object into the dispatcher's state
    each day; the roll-up names the count and the worst delay.

    Raises:
        ValueError: ``limit`` is negative, ``now`` is naive or an object key is empty.
    """
    if limit < 0:
        raise ValueError(f"limit: expected >= 0, found {limit}")
    alerts = [overdue_audit_alert(obj, max_age_days, now, tz) for obj in objects[:limit]]
    rest = objects[limit:]
    if rest:
        worst = max(o.days_overdue for o in rest)
        alerts.append(
            Alert.create(
                AlertKind.OVERDUE_AUDIT,
                OTHER_OBJECTS_SUBJECT,
                f"另有 {len(rest)} 个对象超过 {max_age_days} 日未核验固定性，最长已逾期 {worst} 日；"
                "完整清单见证据命令。",
                now=now,
                evidence_link=audit_evidence(max_age_days),
                dedupe_key=OTHER_OBJECTS_KEY,
                details={"objects": str(len(rest)), "max_days_overdue": str(worst)},
            )
        )
    return alerts
