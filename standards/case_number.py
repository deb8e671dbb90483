"""Parse court case numbers (案号) per 《关于人民法院案件案号的若干规定》.

Rules: 法〔2015〕137号, amended by 法〔2018〕335号.

Layout: ``（收案年度）法院代字[专门审判代字]类型代字案件编号号``, e.g. ``（2024）粤0306民初1234号``.
Only full-width brackets are accepted by :func:`parse_case_number`; half-width ones must go through
:func:`normalise_case_number` explicitly. Type codes come from ``standards/codes/case_types.csv``.
Each failure has its own :class:`~standards.errors.BadInput` subclass. Whether a 案号 was archived
before is left to ingest.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from standards.codes import case_types, special_trial_codes
from standards.errors import BadInput

SUPREME_COURT = "最高法"
# The 31 provincial high courts (内蒙古 = 内), the PLA Military Court (军) and the XPCC branch (兵).
PROVINCE_CODES = frozenset("京津冀晋内辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新" + "军兵")
DEATH_PENALTY_REVIEW = "刑核"
FIRST_YEAR = 1949

_SHAPE = re.compile(r"^（(?P<year>[0-9]{4})）(?P<body>.+?)(?P<serial>[0-9]+)号$")
_COURT_DIGITS = re.compile(r"^[0-9]*")
_HALF_WIDTH = str.maketrans({"(": "（", ")": "）", "〔": "（", "〕": "）", "[": "（", "]": "）"})


class CaseNumberError(BadInput):
    """Base of the 案号 failures (never raised itself)."""

    code = "case_number_invalid"
    item = "GD-1-7"


class CaseNumberHalfWidthBracketsError(CaseNumberError):
    code = "case_number_half_width_brackets"


class CaseNumberMalformedError(CaseNumberError):
    code = "case_number_malformed"


class CaseNumberYearImplausibleError(CaseNumberError):
    code = "case_number_year_implausible"


class CaseNumberUnknownCourtError(CaseNumberError):
    code = "case_number_unknown_court"


class CaseNumberUnknownTypeError(CaseNumberError):
    code = "case_number_unknown_type"


class CaseNumberBadSerialError(CaseNumberError):
    code = "case_number_bad_serial"


@dataclass(frozen=True, slots=True)
class CaseNumber:
    """A parsed 案号. ``serial`` keeps its digits as written (刑核 numbers are 8 fixed digits)."""

    year: int
    court_code: str  # 最高法 | 粤 | 粤03 | 粤0306
    special_code: str | None  # 专门审判代字, e.g. 知
    type_code: str  # 类型代字, e.g. 民初
    serial: str  # 案件编号
    category: str  # 民事 | 刑事 | 行政 | 执行 | 国家赔偿 | 司法救助 | 非诉保全

    def __str__(self) -> str:
        return f"（{self.year}）{self.court_code}{self.special_code or ''}{self.type_code}{self.serial}号"


def normalise_case_number(text: str) -> str:
    """Half-width/other brackets → （）, full-width digits → ASCII, whitespace removed.

    >>> normalise_case_number(" (2024)粤0306民初１２３４号 ")
    '（2024）粤0306民初1234号'
    """
    text = "".join(text.split()).translate(_HALF_WIDTH)
    return "".join(chr(ord(c) - 0xFEE0) if "０" <= c <= "９" else c for c in text)


def _split_court(body: str, raw: str) -> tuple[str, str]:
    if body.startswith(SUPREME_COURT):
        return SUPREME_COURT, body[len(SUPREME_COURT) :]
    if not body or body[0] not in PROVINCE_CODES:
        raise CaseNumberUnknownCourtError(
            f"案号 {raw!r}: court code expected 最高法 or a province abbreviation, found {body[:1]!r}"
        )
    digits = _COURT_DIGITS.match(body[1:])
    n = len(digits.group(0)) if digits else 0
    if n not in (0, 2, 4):
        raise CaseNumberUnknownCourtError(
            f"案号 {raw!r}: court code digits expected 2 (intermediate) or 4 (basic), found {n}"
        )
    return body[: 1 + n], body[1 + n :]


def _split_type(segment: str, raw: str) -> tuple[str | None, str]:
    types = case_types()
    if segment in types:
        return None, segment
    if segment[:1] in special_trial_codes() and segment[1:] in types:
        return segment[:1], segment[1:]
    raise CaseNumberUnknownTypeError(f"案号 {raw!r}: type code {segment!r} is not in case_types.csv")


def parse_case_number(text: str, *, today: dt.date) -> CaseNumber:
    """Parse a 案号 written with full-width brackets.

    >>> parse_case_number("（2024）粤0306民初1234号", today=dt.date(2025, 1, 1)).type_code
    '民初'

    Raises:
        CaseNumberHalfWidthBracketsError: written with ``()``; call :func:`normalise_case_number` first.
        CaseNumberMalformedError: not of the shape ``（YYYY）…<digits>号``.
        CaseNumberYearImplausibleError: year before 1949 or after ``today.year + 1``.
        CaseNumberUnknownCourtError: court code is not 最高法 / a known abbreviation (+ 2 or 4 digits).
        CaseNumberUnknownTypeError: type code (after an optional 专门审判代字) not in the code table.
        CaseNumberBadSerialError: serial 0, with leading zeros, or a 刑核 serial not exactly 8 digits.
    """
    if text.startswith("(") or ")" in text:
        raise CaseNumberHalfWidthBracketsError(
            f"案号 {text!r}: expected full-width brackets （）, found half-width (); normalise explicitly"
        )
    m = _SHAPE.match(text)
    if m is None:
        raise CaseNumberMalformedError(
            f"案号 {text!r}: expected the shape （YYYY）<法院代字><类型代字><编号>号"
        )
    year = int(m["year"])
    if not FIRST_YEAR <= year <= today.year + 1:
        raise CaseNumberYearImplausibleError(
            f"案号 {text!r}: year expected {FIRST_YEAR}..{today.year + 1}, found {year}"
        )
    court, segment = _split_court(m["body"], text)
    if not segment:
        raise CaseNumberUnknownTypeError(f"案号 {text!r}: type code missing after court code {court!r}")
    special, type_code = _split_type(segment, text)
    serial = m["serial"]
    if type_code == DEATH_PENALTY_REVIEW:
        if len(serial) != 8:  # 法〔2015〕137号: 刑核 numbers are random fixed-length 8 digits
            raise CaseNumberBadSerialError(
                f"案号 {text!r}: 刑核 serial expected exactly 8 digits, found {len(serial)}"
            )
    elif serial.startswith("0"):
        raise CaseNumberBadSerialError(
            f"案号 {text!r}: serial expected a natural number without leading zeros, found {serial!r}"
        )
    return CaseNumber(year, court, special, type_code, serial, case_types()[type_code].category)


def check_case_number(text: str, *, today: dt.date) -> CaseNumberError | None:
    """The failure of :func:`parse_case_number` for ``text``, or None when it parses."""
    try:
        parse_case_number(text, today=today)
    except CaseNumberError as exc:
        return exc
    return None
