"""The case ledger (案件台账): closed cases reported by the case management system, and overdue archiving.

The case management system reports each closed case (案号, 法院, 承办部门, 承办人, 结案日期) as a CSV or
JSON file; edossier keeps one :class:`~archive.catalog.models.ClosedCase` row per 案号 until the case's
dossier is archived, and lists the cases whose archiving is overdue (结案后逾期未归档, default 90 days).

Pure part: :func:`parse_cases_csv` / :func:`parse_cases_json` take bytes, ``today`` and
:class:`~standards.limits.Limits` and return every valid row and every row-level problem (Chinese
messages naming row and field); :func:`is_overdue` and :func:`days_overdue` are the deadline rule and
:func:`court_today` the calendar it counts in (China Standard Time).
I/O part (takes an open session, never commits – the caller owns the transaction):
:func:`import_cases` (upsert by 案号, all-or-nothing), :func:`refresh_archived` (copy archive id and
time from the :class:`~archive.catalog.models.Dossier` with the same 案号) and :func:`overdue_cases`.
Rendering and the choice of ``today`` are left to the CLI (:mod:`api.cli_cases`).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog.models import ClosedCase, Dossier
from standards.case_number import CaseNumberError, parse_case_number
from standards.errors import BadInput
from standards.limits import Limits

#: Days after 结案日期 by which a case's dossier must be archived (``Settings.archiving_deadline_days``).
DEFAULT_DEADLINE_DAYS = 90
#: Courts keep the calendar of China Standard Time; "today" for deadlines is a date there.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
#: Bound parameters per IN (...) query; under SQLite's historical 999-variable limit.
IN_CHUNK = 500

CASE_NUMBER, COURT, DEPARTMENT, JUDGE, CLOSING_DATE = "案号", "法院", "承办部门", "承办人", "结案日期"
#: Column (or JSON key) → canonical field; Chinese names first, English aliases case-insensitive.
ALIASES: Mapping[str, str] = {
    CASE_NUMBER: CASE_NUMBER,
    "case_number": CASE_NUMBER,
    COURT: COURT,
    "court": COURT,
    "court_name": COURT,
    DEPARTMENT: DEPARTMENT,
    "department": DEPARTMENT,
    JUDGE: JUDGE,
    "judge": JUDGE,
    CLOSING_DATE: CLOSING_DATE,
    "closing_date": CLOSING_DATE,
}
REQUIRED = (CASE_NUMBER, DEPARTMENT, JUDGE, CLOSING_DATE)
#: Longest value per field (the column widths of ``closed_cases``).
MAX_LENGTH: Mapping[str, int] = {CASE_NUMBER: 64, COURT: 128, DEPARTMENT: 128, JUDGE: 64}
SOURCE_LENGTH = 256

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CASE_NUMBER_WORDS = {
    "case_number_half_width_brackets": "应使用全角括号（），不得使用半角括号 ()",
    "case_number_malformed": "应为（收案年度）法院代字类型代字案件编号号的形式",
    "case_number_year_implausible": "收案年度不合理",
    "case_number_unknown_court": "法院代字无法识别",
    "case_number_unknown_type": "类型代字不在案件类型代码表中",
    "case_number_bad_serial": "案件编号不规范（不得为 0 或以 0 开头；刑核案件为 8 位数字）",
}


# ------------------------------------------------------------------ errors (whole file)
class CasesFileError(BadInput):
    """Base of the failures that make a whole case file unreadable (never raised itself)."""

    code = "cases_file_invalid"


class CasesFileTooLarge(CasesFileError):
    code = "cases_file_too_large"


class CasesTooManyRows(CasesFileError):
    code = "cases_too_many_rows"


class CasesEncodingUnknown(CasesFileError):
    code = "cases_encoding_unknown"


class CasesCsvMalformed(CasesFileError):
    code = "cases_csv_malformed"


class CasesColumnMissing(CasesFileError):
    code = "cases_column_missing"


class CasesColumnDuplicated(CasesFileError):
    code = "cases_column_duplicated"


class CasesJsonMalformed(CasesFileError):
    code = "cases_json_malformed"


class CasesFileEmpty(CasesFileError):
    code = "cases_file_empty"


# ------------------------------------------------------------------ values
@dataclass(frozen=True, slots=True)
class ReportedCase:
    """One valid row: a closed case as the case management system reported it."""

    case_number: str
    court_name: str | None
    department: str
    judge: str
    closing_date: dt.date
    row: int  # CSV: spreadsheet row (header = 1); JSON: 1-based position in the array


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row was rejected: row, field (canonical Chinese name, or None for the whole row), code."""

    row: int
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class ParsedCases:
    """Every valid row and every problem of one file (at least one row); ``ok`` when no row has a problem."""

    cases: tuple[ReportedCase, ...]
    problems: tuple[RowProblem, ...]
    encoding: str
    rows: int  # data rows read (blank CSV rows not counted)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What :func:`import_cases` did, by 案号; ``rejected`` non-empty means nothing was written."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    rejected: tuple[RowProblem, ...] = ()

    @property
    def imported(self) -> bool:
        return not self.rejected


@dataclass(frozen=True, slots=True)
class OverdueCase:
    """A closed case whose dossier is not archived ``days_overdue`` days after the deadline."""

    case_number: str
    department: str
    judge: str
    closing_date: dt.date
    days_overdue: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_number": self.case_number,
            "department": self.department,
            "judge": self.judge,
            "closing_date": self.closing_date.isoformat(),
            "days_overdue": self.days_overdue,
        }


# ------------------------------------------------------------------ the deadline rule (pure)
def court_today(now: dt.datetime) -> dt.date:
    """The date of ``now`` in China Standard Time (UTC+8), the calendar archiving deadlines count in.

    >>> court_today(dt.datetime(2025, 2, 28, 17, 0, tzinfo=dt.UTC))
    datetime.date(2025, 3, 1)

    Raises:
        ValueError: ``now`` is naive.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now: expected a timezone-aware datetime; found naive {now.isoformat()}")
    return now.astimezone(CHINA_TZ).date()


def archiving_deadline(closing_date: dt.date, deadline_days: int = DEFAULT_DEADLINE_DAYS) -> dt.date:
    """The last day on which archiving is on time: 结案日期 + ``deadline_days`` calendar days.

    Raises:
        ValueError: ``deadline_days`` is negative (a caller bug).
    """
    if deadline_days < 0:
        raise ValueError(f"deadline_days: expected >= 0; found {deadline_days}")
    return closing_date + dt.timedelta(days=deadline_days)


def is_overdue(closing_date: dt.date, archived: bool, today: dt.date, deadline_days: int) -> bool:
    """True when the case is not archived and ``today`` is after 结案日期 + ``deadline_days``.

    >>> is_overdue(dt.date(2024, 1, 1), False, dt.date(2024, 3, 31), 90)
    False
    >>> is_overdue(dt.date(2024, 1, 1), False, dt.date(2024, 4, 1), 90)
    True

    Raises:
        ValueError: ``deadline_days`` is negative (a caller bug).
    """
    return not archived and today > archiving_deadline(closing_date, deadline_days)


def days_overdue(closing_date: dt.date, today: dt.date, deadline_days: int) -> int:
    """Days ``today`` lies after the deadline (0 or less when not yet overdue).

    Raises:
        ValueError: ``deadline_days`` is negative (a caller bug).
    """
    return (today - archiving_deadline(closing_date, deadline_days)).days


# ------------------------------------------------------------------ parsing (pure)
def _check_size(data: bytes, limits: Limits) -> None:
    if len(data) > limits.xml_bytes:
        raise CasesFileTooLarge(f"case file: expected at most {limits.xml_bytes} bytes; found {len(data)}")


def _check_rows(count: int, limits: Limits) -> None:
    if count == 0:
        raise CasesFileEmpty("case file: expected at least one case; found none")
    if count > limits.file_count:
        raise CasesTooManyRows(f"case file: expected at most {limits.file_count} rows; found more ({count})")


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a CSV as written by a case system or Excel: UTF-8 (BOM optional), UTF-16 with BOM, or GB18030.

    Returns the text and the encoding name found.

    Raises:
        CasesEncodingUnknown: the bytes are none of these encodings.
    """
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]  # Excel "Unicode text"
    else:
        candidates = ["utf-8", "gb18030"]  # GB18030 ⊃ GBK: what Excel writes for "CSV" on Chinese Windows
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise CasesEncodingUnknown(
        f"case file encoding: expected UTF-8, UTF-16 with BOM or GB18030; found bytes valid in none "
        f"(first bytes {data[:8].hex()})"
    )


def _canonical_columns(header: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = ALIASES.get(raw.strip()) or ALIASES.get(raw.strip().lower())
        if name is None:
            continue  # extra columns of the case system are ignored
        if name in found:
            raise CasesColumnDuplicated(
                f"case file header: column {name} expected once; found twice ({header[found[name]]!r}, {raw!r})"
            )
        found[name] = index
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise CasesColumnMissing(
            f"case file header: expected columns {', '.join(REQUIRED)} (or case_number, department, judge, "
            f"closing_date); missing {', '.join(missing)}; found {', '.join(h.strip() for h in header)[:200]}"
        )
    return found


def _show(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 80 else text[:80] + "…")


@dataclass
class _Row:
    """Collects the problems of one row; ``unit`` is 行 (CSV) or 条 (JSON)."""

    number: int
    unit: str
    problems: list[RowProblem]

    def bad(self, name: str | None, code: str, what: str) -> None:
        where = f"第 {self.number} {self.unit}" + (f"「{name}」" if name else "")
        self.problems.append(RowProblem(self.number, name, code, f"{where}：{what}"))

    def text(self, record: Mapping[str, object], name: str) -> str | None:
        value = record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in REQUIRED:
                self.bad(name, "case_field_missing", f"{name}为必填项，实为空")
            return None
        if not isinstance(value, str):
            self.bad(name, "case_field_not_text", f"{name}应为文本，实为 {_show(value)}")
            return None
        text, limit = value.strip(), MAX_LENGTH.get(name)
        if limit is not None and len(text) > limit:
            self.bad(name, "case_field_too_long", f"{name}最多 {limit} 个字符，实为 {len(text)} 个")
            return None
        return text

    def case_number_year(self, text: str, today: dt.date) -> int | None:
        """Validate a 案号 (GD-1-7 rules: 法〔2015〕137号); returns its 收案年度."""
        try:
            return parse_case_number(text, today=today).year
        except CaseNumberError as error:
            words = _CASE_NUMBER_WORDS.get(error.code, "不符合《关于人民法院案件案号的若干规定》")
            self.bad(CASE_NUMBER, error.code, f"案号{words}，实为 {_show(text)}")
            return None

    def closing_date(self, text: str, year: int | None, today: dt.date) -> dt.date | None:
        date = dt.date.fromisoformat(text) if _ISO_DATE.fullmatch(text) and _valid_date(text) else None
        if date is None:
            self.bad(CLOSING_DATE, "closing_date_invalid", f"结案日期应为 YYYY-MM-DD，实为 {_show(text)}")
        elif date > today:
            self.bad(
                CLOSING_DATE,
                "closing_date_in_future",
                f"结案日期不得晚于今天 {today.isoformat()}，实为 {text}",
            )
        elif year is not None and date.year < year:
            self.bad(
                CLOSING_DATE,
                "closing_date_before_filing_year",
                f"结案日期不得早于案号的收案年度 {year} 年，实为 {text}",
            )
        else:
            return date
        return None


def _valid_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _validate(record: Mapping[str, object], row: _Row, today: dt.date) -> ReportedCase | None:
    before = len(row.problems)
    values = {name: row.text(record, name) for name in (*REQUIRED, COURT)}
    number, date_text = values[CASE_NUMBER], values[CLOSING_DATE]
    year = row.case_number_year(number, today) if number is not None else None
    closing = row.closing_date(date_text, year, today) if date_text is not None else None
    if len(row.problems) > before or number is None or closing is None:
        return None
    return ReportedCase(
        case_number=number,
        court_name=values[COURT],
        department=values[DEPARTMENT] or "",
        judge=values[JUDGE] or "",
        closing_date=closing,
        row=row.number,
    )


def _collect(
    records: Iterable[tuple[int, Mapping[str, object] | None]], unit: str, today: dt.date
) -> tuple[list[ReportedCase], list[RowProblem], int]:
    cases: list[ReportedCase] = []
    problems: list[RowProblem] = []
    first_row: dict[str, int] = {}
    count = 0
    for number, record in records:
        count += 1
        row = _Row(number, unit, problems)
        if record is None:
            row.bad(None, "case_row_not_object", "每条记录应为 JSON 对象")
            continue
        case = _validate(record, row, today)
        if case is None:
            continue
        if case.case_number in first_row:
            seen = first_row[case.case_number]
            row.bad(CASE_NUMBER, "case_number_duplicated", f"案号 {case.case_number} 与第 {seen} {unit}重复")
            continue
        first_row[case.case_number] = number
        cases.append(case)
    return cases, problems, count


def parse_cases_csv(data: bytes, *, today: dt.date, limits: Limits) -> ParsedCases:
    """Parse a CSV of closed cases: header row of column names, then one case per row.

    Columns (Chinese or English, any order, extra columns ignored): 案号/case_number, 法院/court
    (optional), 承办部门/department, 承办人/judge, 结案日期/closing_date (YYYY-MM-DD, not after ``today``).
    Comma- or tab-separated; encodings as :func:`decode_text`. Blank rows are skipped. Row numbers
    are spreadsheet rows (the header is row 1).

    Raises:
        CasesFileTooLarge: more than ``limits.xml_bytes`` bytes.
        CasesFileEmpty / CasesTooManyRows: no data row, or more than ``limits.file_count``.
        CasesEncodingUnknown: not UTF-8, UTF-16 with BOM or GB18030.
        CasesCsvMalformed: no header row, or the CSV cannot be read (e.g. a NUL byte).
        CasesColumnMissing / CasesColumnDuplicated: a required column is absent, or a column twice.
    """
    _check_size(data, limits)
    text, encoding = decode_text(data)
    if "\x00" in text:  # Python >= 3.11 reads NUL inside fields; a text export never has one
        raise CasesCsvMalformed(
            f"case file: expected text; found a NUL character at offset {text.index(chr(0))}"
        )
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        reader = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise CasesCsvMalformed(f"case file: not readable as CSV ({error})") from None
    if not reader or not any(cell.strip() for cell in reader[0]):
        raise CasesCsvMalformed("case file: expected a header row of column names; found an empty first row")
    columns = _canonical_columns(reader[0])
    body = [
        (number, cells) for number, cells in enumerate(reader[1:], start=2) if any(c.strip() for c in cells)
    ]
    _check_rows(len(body), limits)
    records = (
        (number, {name: cells[index] if index < len(cells) else "" for name, index in columns.items()})
        for number, cells in body
    )
    cases, problems, count = _collect(records, "行", today)
    return ParsedCases(tuple(cases), tuple(problems), encoding, count)


def parse_cases_json(data: bytes, *, today: dt.date, limits: Limits) -> ParsedCases:
    """Parse JSON closed cases: an array of objects, or ``{"cases": [...]}``; keys as the CSV columns.

    Values are strings (结案日期 ``YYYY-MM-DD``); a missing or ``null`` 法院 is allowed. Rows are
    numbered by position in the array, from 1.

    Raises:
        CasesFileTooLarge: more than ``limits.xml_bytes`` bytes.
        CasesFileEmpty / CasesTooManyRows: no entry, or more than ``limits.file_count``.
        CasesJsonMalformed: not UTF-8 JSON, or not an array of cases / an object with ``cases``.
    """
    _check_size(data, limits)
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CasesJsonMalformed(f"case file: expected UTF-8 JSON; {error}") from None
    if isinstance(document, dict) and isinstance(document.get("cases"), list):
        document = document["cases"]
    if not isinstance(document, list):
        raise CasesJsonMalformed(
            f'case file: expected a JSON array of cases or {{"cases": [...]}}; found {type(document).__name__}'
        )
    _check_rows(len(document), limits)

    def canonical(item: object) -> Mapping[str, object] | None:
        if not isinstance(item, dict):
            return None
        out: dict[str, object] = {}
        for key, value in item.items():
            name = ALIASES.get(key.strip()) or ALIASES.get(key.strip().lower())
            if name is not None:
                out[name] = value
        return out

    cases, problems, count = _collect(((n, canonical(i)) for n, i in enumerate(document, 1)), "条", today)
    return ParsedCases(tuple(cases), tuple(problems), "utf-8", count)


def parse_cases(data: bytes, *, name: str, today: dt.date, limits: Limits) -> ParsedCases:
    """Parse by file name (``.json`` → JSON, ``.csv``/``.txt`` → CSV), else by content (``[``/``{`` → JSON).

    Raises:
        CasesFileError: as :func:`parse_cases_csv` or :func:`parse_cases_json`.
    """
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix == "json" or (
        suffix not in ("csv", "txt") and data.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1] in (b"[", b"{")
    ):
        return parse_cases_json(data, today=today, limits=limits)
    return parse_cases_csv(data, today=today, limits=limits)


# ------------------------------------------------------------------ database (never commits)
def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def import_cases(session: Session, parsed: ParsedCases, *, source: str, now: dt.datetime) -> ImportResult:
    """Upsert the parsed cases by 案号, all or nothing: with any row problem nothing is written.

    A new 案号 is added (``reported_at`` = ``updated_at`` = ``now``). A known one is updated when
    法院, 承办部门, 承办人 or 结案日期 differ (``source`` and ``updated_at`` change, ``reported_at``
    stays); a missing 法院 keeps the stored one. Archive links are left to :func:`refresh_archived`.
    Flushes; the caller commits.

    Raises:
        ValueError: ``source`` is empty or ``now`` is naive (caller bugs).
    """
    if not source.strip():
        raise ValueError("source: expected the import file name or 'api'; found an empty string")
    if now.tzinfo is None:
        raise ValueError(f"now: expected a timezone-aware time; found {now.isoformat()}")
    if parsed.problems:
        return ImportResult(rejected=parsed.problems)
    source = source.strip()[:SOURCE_LENGTH]
    numbers = [case.case_number for case in parsed.cases]
    existing: dict[str, ClosedCase] = {}
    for chunk in _chunks(numbers):
        for row in session.scalars(select(ClosedCase).where(ClosedCase.case_number.in_(chunk))):
            existing[row.case_number] = row
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for case in parsed.cases:
        known = existing.get(case.case_number)
        if known is None:
            session.add(
                ClosedCase(
                    case_number=case.case_number,
                    court_name=case.court_name,
                    department=case.department,
                    judge=case.judge,
                    closing_date=case.closing_date,
                    source=source,
                    reported_at=now,
                    updated_at=now,
                )
            )
            added.append(case.case_number)
            continue
        wanted = {
            "court_name": case.court_name if case.court_name is not None else known.court_name,
            "department": case.department,
            "judge": case.judge,
            "closing_date": case.closing_date,
        }
        if all(getattr(known, key) == value for key, value in wanted.items()):
            unchanged.append(case.case_number)
            continue
        for key, value in wanted.items():
            setattr(known, key, value)
        known.source, known.updated_at = source, now
        updated.append(case.case_number)
    session.flush()
    return ImportResult(tuple(added), tuple(updated), tuple(unchanged))


def refresh_archived(session: Session) -> list[str]:
    """Link every unarchived closed case to the dossier archived under the same 案号; returns those 案号.

    Copies the dossier's ``archive_id`` and ``archived_at``. Flushes; the caller commits.
    """
    pairs = session.execute(
        select(ClosedCase, Dossier.archive_id, Dossier.archived_at)
        .join(Dossier, Dossier.case_number == ClosedCase.case_number)
        .where(ClosedCase.archive_id.is_(None))
        .order_by(ClosedCase.case_number)
    ).all()
    for case, archive_id, archived_at in pairs:
        case.archive_id, case.archived_at = archive_id, archived_at
    session.flush()
    return [case.case_number for case, _, _ in pairs]


def overdue_cases(
    session: Session, today: dt.date, deadline_days: int = DEFAULT_DEADLINE_DAYS
) -> list[OverdueCase]:
    """Closed cases not archived by 结案日期 + ``deadline_days``, most overdue first; only reads.

    A case counts as archived when it is linked (``archive_id``) or a dossier with its 案号 exists,
    so the answer is right even before :func:`refresh_archived` ran.

    Raises:
        ValueError: ``deadline_days`` is negative (a caller bug).
    """
    if deadline_days < 0:
        raise ValueError(f"deadline_days: expected >= 0; found {deadline_days}")
    cutoff = today - dt.timedelta(days=deadline_days)  # closing_date < cutoff ⇔ today > closing + deadline
    rows = session.execute(
        select(ClosedCase, Dossier.archive_id)
        .outerjoin(Dossier, Dossier.case_number == ClosedCase.case_number)
        .where(ClosedCase.archive_id.is_(None), ClosedCase.closing_date < cutoff)  # SQL pre-filter
    ).all()
    found = [
        OverdueCase(
            case.case_number,
            case.department,
            case.judge,
            case.closing_date,
            days_overdue(case.closing_date, today, deadline_days),
        )
        for case, dossier_id in rows
        if is_overdue(case.closing_date, dossier_id is not None, today, deadline_days)
    ]
    return sorted(found, key=lambda c: (-c.days_overdue, c.case_number))
