"""The monthly archiving register (归档台账) computed from plain records: pure, no I/O.

Per month (China Standard Time) and per 承办部门:

* 结案数 – closed cases whose 结案日期 falls in the month;
* 已归档 – dossiers archived in the month, 按期归档 when archived by 结案日期 + ``deadline_days``
  (the rule of :func:`archive.cases.archiving_deadline`), else 逾期归档;
* 逾期未归档 – closed cases not archived at the end of the month (today for the current month) and
  past their deadline (:func:`archive.cases.is_overdue`);
* GD 检测通过率 – packages received in the month: archived / (archived + rejected); a package
  re-sent after its dossier was archived (``already_archived``) is neither;
* 审计覆盖率 – the department's stored objects (AIP manifest, content and metadata blobs, as
  :mod:`integrity.audit.coverage` counts them) with an ``ok`` fixity result within ``audit_period``
  before the end of the month.

The department of an archived dossier, and of a submission, is the one the case ledger reports for
its 案号; without a ledger entry the dossier's own 承办部门; a submission known to neither is counted
under :data:`~archive.register.model.UNKNOWN_DEPARTMENT`. A department appears in a month once it has
a closed case, an archived dossier or a submission by then. Reading the records is left to
:mod:`archive.register.reader`, rendering to the exports and the CLI.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from archive.cases import archiving_deadline, court_today, is_overdue
from archive.register.model import (
    MAX_MONTHS,
    UNKNOWN_DEPARTMENT,
    CaseRecord,
    Month,
    RegisterInputs,
    RegisterRangeInvalid,
    RegisterRow,
    RegisterTable,
    sum_rows,
)


def month_range(
    first: Month, last: Month, *, today: dt.date, max_months: int = MAX_MONTHS
) -> tuple[Month, ...]:
    """Every month from ``first`` to ``last``, both included.

    >>> [str(m) for m in month_range(Month(2024, 11), Month(2025, 1), today=dt.date(2025, 3, 1))]
    ['2024-11', '2024-12', '2025-01']

    Raises:
        RegisterRangeInvalid: ``first`` is after ``last``, ``last`` is after the month of ``today``,
            or the range has more than ``max_months`` months.
    """
    if first > last:
        raise RegisterRangeInvalid(f"month range: expected from <= to; found from {first}, to {last}")
    if last > Month.of(today):
        raise RegisterRangeInvalid(
            f"month range: expected to <= the current month {Month.of(today)}; found {last}"
        )
    months = [first]
    while months[-1] < last:
        months.append(months[-1].next())
        if len(months) > max_months:
            raise RegisterRangeInvalid(
                f"month range: expected at most {max_months} months; found more ({first} to {last})"
            )
    return tuple(months)


@dataclass(frozen=True, slots=True)
class _Archived:
    """A dossier as the register sees it: department and 结案日期 after the ledger lookup."""

    department: str
    closing_date: dt.date
    day: dt.date  # archiving date in China Standard Time
    object_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The inputs joined once: each case with its archiving day, dossiers and submissions with departments."""

    cases: tuple[tuple[CaseRecord, dt.date | None], ...]
    archived: tuple[_Archived, ...]
    submissions: tuple[tuple[dt.date, str, str], ...]  # day received (UTC+8), department, status
    checks: Mapping[str, list[dt.datetime]]  # ok verification times per key, sorted


def _department_of(
    case_number: str | None, ledger: Mapping[str, CaseRecord], dossier_department: Mapping[str, str]
) -> str:
    """The ledger's 承办部门 for ``case_number``, else its dossier's, else :data:`UNKNOWN_DEPARTMENT`."""
    if case_number is None:
        return UNKNOWN_DEPARTMENT
    case = ledger.get(case_number)
    return case.department if case else dossier_department.get(case_number, UNKNOWN_DEPARTMENT)


def _prepare(inputs: RegisterInputs) -> _Prepared:
    ledger = {case.case_number: case for case in inputs.cases}
    archived_day = {d.case_number: court_today(d.archived_at) for d in inputs.dossiers}
    dossier_department = {d.case_number: d.department for d in inputs.dossiers}
    archived = []
    for d in inputs.dossiers:
        case = ledger.get(d.case_number)
        archived.append(
            _Archived(
                department=case.department if case else d.department,
                closing_date=case.closing_date if case else d.closing_date,
                day=archived_day[d.case_number],
                object_keys=d.object_keys,
            )
        )
    checks: dict[str, list[dt.datetime]] = defaultdict(list)
    for check in inputs.verifications:
        checks[check.key].append(check.checked_at)
    for times in checks.values():
        times.sort()
    return _Prepared(
        cases=tuple((case, archived_day.get(case.case_number)) for case in inputs.cases),
        archived=tuple(archived),
        submissions=tuple(
            (court_today(s.received_at), _department_of(s.case_number, ledger, dossier_department), s.status)
            for s in inputs.submissions
        ),
        checks=checks,
    )


def _verified_within(times: list[dt.datetime], after: dt.datetime, before: dt.datetime) -> bool:
    """Whether the sorted ``times`` hold one with ``after < t < before``."""
    index = bisect.bisect_right(times, after)
    return index < len(times) and times[index] < before


Counts = dict[str, dict[str, int]]


def _count_cases(
    month: Month, as_of: dt.date, data: _Prepared, deadline_days: int, counts: Counts
) -> set[str]:
    """结案数 and 逾期未归档 (at ``as_of``); returns the departments with a case closed by the month's end."""
    present = set()
    for case, archived_day in data.cases:
        if case.closing_date > month.last_day:
            continue
        present.add(case.department)
        if month.contains(case.closing_date):
            counts[case.department]["closed"] += 1
        archived_by_then = archived_day is not None and archived_day <= as_of
        if case.closing_date <= as_of and is_overdue(
            case.closing_date, archived_by_then, as_of, deadline_days
        ):
            counts[case.department]["overdue_open"] += 1
    return present


def _count_archived(month: Month, data: _Prepared, deadline_days: int, counts: Counts) -> dict[str, set[str]]:
    """已归档 (按期 / 逾期) in the month; returns each department's objects stored by the month's end."""
    stored: dict[str, set[str]] = defaultdict(set)
    for item in data.archived:
        if item.day > month.last_day:
            continue
        stored[item.department].update(item.object_keys)
        if month.contains(item.day):
            on_time = item.day <= archiving_deadline(item.closing_date, deadline_days)
            counts[item.department]["archived"] += 1
            counts[item.department]["archived_on_time" if on_time else "archived_late"] += 1
    return stored


def _count_submissions(month: Month, data: _Prepared, counts: Counts) -> set[str]:
    """GD detections of the month (archived / rejected); returns the departments that submitted."""
    present = set()
    for day, department, status in data.submissions:
        if not month.contains(day):
            continue
        present.add(department)
        if status == "archived":
            counts[department]["submissions_passed"] += 1
        elif status == "rejected":
            counts[department]["submissions_rejected"] += 1
    return present


def _month_rows(
    month: Month,
    data: _Prepared,
    *,
    today: dt.date,
    now: dt.datetime,
    deadline_days: int,
    audit_period: dt.timedelta,
) -> list[RegisterRow]:
    as_of = min(month.last_day, today)  # the current month is counted up to today
    cutoff = min(month.end, now)
    counts: Counts = defaultdict(lambda: defaultdict(int))
    present = _count_cases(month, as_of, data, deadline_days, counts)
    stored = _count_archived(month, data, deadline_days, counts)
    present |= set(stored) | _count_submissions(month, data, counts)
    for department, keys in stored.items():
        counts[department]["objects_stored"] = len(keys)
        counts[department]["objects_verified"] = sum(
            1 for key in keys if _verified_within(data.checks.get(key, []), cutoff - audit_period, cutoff)
        )
    order = sorted(present, key=lambda name: (name == UNKNOWN_DEPARTMENT, name))
    return [RegisterRow(month=str(month), department=name, **counts[name]) for name in order]


def compute_register(
    inputs: RegisterInputs,
    first: Month,
    last: Month,
    *,
    deadline_days: int,
    audit_period: dt.timedelta,
    now: dt.datetime,
    max_months: int = MAX_MONTHS,
) -> RegisterTable:
    """The register of the months ``first`` … ``last`` at ``now``.

    Raises:
        RegisterRangeInvalid: as :func:`month_range` (today is the date of ``now`` in UTC+8).
        ValueError: ``now`` or a record's time is naive, ``deadline_days`` is negative or
            ``audit_period`` is not positive (caller bugs).
    """
    today = court_today(now)
    if deadline_days < 0:
        raise ValueError(f"deadline_days: expected >= 0; found {deadline_days}")
    if audit_period <= dt.timedelta(0):
        raise ValueError(f"audit_period: expected a positive duration; found {audit_period}")
    months = month_range(first, last, today=today, max_months=max_months)
    data = _prepare(inputs)
    rows: list[RegisterRow] = []
    totals: list[RegisterRow] = []
    for month in months:
        found = _month_rows(
            month, data, today=today, now=now, deadline_days=deadline_days, audit_period=audit_period
        )
        rows.extend(found)
        totals.append(sum_rows(str(month), found))
    return RegisterTable(
        months=tuple(str(m) for m in months),
        rows=tuple(rows),
        totals=tuple(totals),
        deadline_days=deadline_days,
        audit_period_days=audit_period.days,
        as_of=now,
    )
