"""Values of the monthly archiving register (归档台账): months, input records, rows and the table.

Inputs are small records read from the catalog (:mod:`archive.register.reader`); the table is what
:func:`archive.register.compute.compute_register` makes of them and what the exports
(:mod:`archive.register.export_xlsx`, :mod:`archive.register.export_pdf`) and the CLI render.
Everything here is a frozen value; nothing does I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from archive.cases import CHINA_TZ
from standards.errors import BadInput

#: The row of a month's totals carries this in place of a department.
TOTAL_LABEL = "合计"
#: Submissions whose 案号 is neither in the case ledger nor archived are counted under this department.
UNKNOWN_DEPARTMENT = "（未知部门）"
#: Longest month range one register covers (ten years).
MAX_MONTHS = 120

#: Column headers of the register's summary form (PDF, terminal): department, counts, rates.
SUMMARY_HEADERS: tuple[str, ...] = (
    "承办部门",
    "结案数",
    "已归档",
    "按期归档",
    "逾期归档",
    "逾期未归档",
    "GD检测通过率",
    "审计覆盖率",
)

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class RegisterMonthInvalid(BadInput):
    """A month is not written ``YYYY-MM`` (or names no month)."""

    code = "register_month_invalid"


class RegisterRangeInvalid(BadInput):
    """A month range is reversed, reaches into the future, or is longer than :data:`MAX_MONTHS`."""

    code = "register_range_invalid"


# ------------------------------------------------------------------ months (China Standard Time)
@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month in China Standard Time, the calendar court statistics count in."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1900 <= self.year <= 9998):
            raise ValueError(f"Month: expected year 1900-9998 and month 1-12; found {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """``"YYYY-MM"`` as a month.

        >>> Month.parse("2025-03")
        Month(year=2025, month=3)

        Raises:
            RegisterMonthInvalid: not ``YYYY-MM``, or no such month.
        """
        found = _MONTH.fullmatch(text.strip())
        if found is None or not (1 <= int(found.group(2)) <= 12 and 1900 <= int(found.group(1)) <= 9998):
            raise RegisterMonthInvalid(f"month: expected YYYY-MM (e.g. 2025-03); found {text[:40]!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return self.next().first_day - dt.timedelta(days=1)

    @property
    def start(self) -> dt.datetime:
        """The first instant of the month: 00:00 on its first day in China Standard Time."""
        return dt.datetime.combine(self.first_day, dt.time(), CHINA_TZ)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the month (exclusive bound)."""
        return self.next().start

    def contains(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day


# ------------------------------------------------------------------ inputs (read from the catalog)
@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A closed case of the case ledger (案件台账): 案号, 承办部门, 结案日期."""

    case_number: str
    department: str
    closing_date: dt.date


@dataclass(frozen=True, slots=True)
class DossierRecord:
    """An archived dossier: when it was archived and the store keys of its objects (manifest and blobs)."""

    archive_id: str
    case_number: str
    department: str
    closing_date: dt.date
    archived_at: dt.datetime
    object_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubmissionRecord:
    """A package handed to ingest: when, for which 案号, and its status (archived | rejected | already_archived)."""

    received_at: dt.datetime
    case_number: str | None
    status: str


@dataclass(frozen=True, slots=True)
class VerificationRecord:
    """An ``ok`` fixity result of an audit: the object's store key and when it was checked."""

    key: str
    checked_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RegisterInputs:
    """Everything the register is computed from."""

    cases: tuple[CaseRecord, ...] = ()
    dossiers: tuple[DossierRecord, ...] = ()
    submissions: tuple[SubmissionRecord, ...] = ()
    verifications: tuple[VerificationRecord, ...] = ()


# ------------------------------------------------------------------ output
def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def percent(rate: float | None) -> str:
    """A rate for people: ``"87.5%"``, or ``"—"`` when there is nothing to rate.

    >>> percent(0.875), percent(None)
    ('87.5%', '—')
    """
    return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One department in one month (or, with ``department`` = :data:`TOTAL_LABEL`, the month's totals).

    ``closed``: cases closed (结案日期) in the month. ``archived``: dossiers archived in the month,
    split into ``archived_on_time`` (by 结案日期 + the deadline) and ``archived_late``. ``overdue_open``:
    closed cases still unarchived past their deadline at the end of the month (逾期未归档; for the
    current month, today). ``submissions_passed`` / ``submissions_rejected``: packages received in the
    month and archived / rejected at GD detection. ``objects_stored`` / ``objects_verified``: the
    department's stored objects at the end of the month, and those an audit verified ok within the
    policy period before it.

    Raises:
        ValueError: a count is negative, on time + late differs from archived, or more objects are
            verified than stored (caller bugs).
    """

    month: str
    department: str
    closed: int = 0
    archived: int = 0
    archived_on_time: int = 0
    archived_late: int = 0
    overdue_open: int = 0
    submissions_passed: int = 0
    submissions_rejected: int = 0
    objects_stored: int = 0
    objects_verified: int = 0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, int) and value < 0:
                raise ValueError(f"RegisterRow.{item.name}: expected >= 0; found {value}")
        if self.archived_on_time + self.archived_late != self.archived:
            raise ValueError(
                f"RegisterRow {self.month} {self.department}: archived_on_time + archived_late expected "
                f"{self.archived}; found {self.archived_on_time} + {self.archived_late}"
            )
        if self.objects_verified > self.objects_stored:
            raise ValueError(
                f"RegisterRow {self.month} {self.department}: objects_verified expected <= "
                f"{self.objects_stored}; found {self.objects_verified}"
            )

    @property
    def detection_pass_rate(self) -> float | None:
        """GD 检测通过率: archived / (archived + rejected) submissions; ``None`` without submissions."""
        return _rate(self.submissions_passed, self.submissions_passed + self.submissions_rejected)

    @property
    def audit_coverage(self) -> float | None:
        """Share of stored objects verified ok within the audit period; ``None`` when nothing is stored."""
        return _rate(self.objects_verified, self.objects_stored)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {item.name: getattr(self, item.name) for item in fields(self)}
        out["detection_pass_rate"] = self.detection_pass_rate
        out["audit_coverage"] = self.audit_coverage
        return out


COUNTS: tuple[str, ...] = tuple(f.name for f in fields(RegisterRow) if f.name not in ("month", "department"))


def sum_rows(month: str, rows: Iterable[RegisterRow]) -> RegisterRow:
    """The totals row of ``month``: every count summed; the rates follow from the summed counts."""
    rows = list(rows)
    sums = {name: sum(getattr(r, name) for r in rows) for name in COUNTS}
    return RegisterRow(month=month, department=TOTAL_LABEL, **sums)


@dataclass(frozen=True, slots=True)
class RegisterTable:
    """The register of ``months`` (oldest first): department rows by month, and one totals row per month.

    ``deadline_days`` is the archiving deadline after 结案日期, ``audit_period_days`` the period within
    which a verification counts, ``as_of`` the time the register was computed.
    """

    months: tuple[str, ...]
    rows: tuple[RegisterRow, ...]
    totals: tuple[RegisterRow, ...]
    deadline_days: int
    audit_period_days: int
    as_of: dt.datetime

    def rows_of(self, month: str) -> tuple[RegisterRow, ...]:
        return tuple(r for r in self.rows if r.month == month)

    def total_of(self, month: str) -> RegisterRow:
        for total in self.totals:
            if total.month == month:
                return total
        raise KeyError(month)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape (``edossier register --json``): parameters, then per month its rows and total."""
        return {
            "from": self.months[0] if self.months else None,
            "to": self.months[-1] if self.months else None,
            "deadline_days": self.deadline_days,
            "audit_period_days": self.audit_period_days,
            "as_of": self.as_of.isoformat(),
            "months": [
                {
                    "month": month,
                    "rows": [r.as_dict() for r in self.rows_of(month)],
                    "total": self.total_of(month).as_dict(),
                }
                for month in self.months
            ],
        }


def register_notes(table: RegisterTable) -> tuple[str, ...]:
    """How each figure of ``table`` is counted, in Chinese, for the foot of an export."""
    return (
        f"按期归档：结案后 {table.deadline_days} 日内归档；"
        "逾期未归档：截至月末（当月截至今日）已超期仍未归档的已结案件。",
        "GD检测通过率：当月提交的归档包中通过归档环节检测并归档的比例（重复提交已归档的包不计）。",
        f"审计覆盖率：截至月末已存储的对象中，{table.audit_period_days} 日内经审计固定性核验无误的比例。",
        f"统计时间：{table.as_of.astimezone(CHINA_TZ).isoformat(timespec='seconds')}（北京时间）",
    )
