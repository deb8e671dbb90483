"""Cached loaders for the code tables in ``standards/codes/*.csv``.

The tables are data (retention scheme, 密级, file formats, 案号 type codes, the GD-1-6 special
character blacklist); this module only reads them once per process and returns immutable values.
Which field must use which table is decided by :mod:`standards.validation`.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

CODES_DIR = Path(__file__).resolve().parent / "codes"


def _rows(name: str) -> list[dict[str, str]]:
    with (CODES_DIR / name).open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


@dataclass(frozen=True, slots=True)
class RetentionPeriod:
    """One 保管期限 of the court scheme; ``years`` is None for 永久; higher ``rank`` = longer."""

    code: str
    years: int | None
    rank: int
    archival_code: str  # the 保管期限 component of a 档号 (Y, C, D)


@dataclass(frozen=True, slots=True)
class FileFormat:
    code: str
    extensions: frozenset[str]
    mime: str
    kind: str


@dataclass(frozen=True, slots=True)
class CaseType:
    """A 类型代字 of 案号 (法〔2015〕137号) with its case category (民事, 刑事, …)."""

    code: str
    category: str
    name: str


@functools.cache
def retention_periods() -> dict[str, RetentionPeriod]:
    """保管期限 code → period (court scheme: 永久, 长期 60 years, 短期 30 years)."""
    return {
        r["code"]: RetentionPeriod(
            r["code"], int(r["years"]) if r["years"] else None, int(r["rank"]), r["archival_code"]
        )
        for r in _rows("retention.csv")
    }


@functools.cache
def classifications() -> tuple[str, ...]:
    """密级 codes, least to most restricted."""
    return tuple(r["code"] for r in sorted(_rows("classification.csv"), key=lambda r: int(r["rank"])))


@functools.cache
def file_formats() -> dict[str, FileFormat]:
    """格式信息 code → format (extensions are lower case, without the dot)."""
    return {
        r["code"]: FileFormat(r["code"], frozenset(r["extensions"].lower().split()), r["mime"], r["kind"])
        for r in _rows("formats.csv")
    }


@functools.cache
def case_types() -> dict[str, CaseType]:
    """类型代字 → case type."""
    return {r["code"]: CaseType(r["code"], r["category"], r["name"]) for r in _rows("case_types.csv")}


@functools.cache
def case_categories() -> frozenset[str]:
    """The case categories (案件类型 of 说明文件): 民事, 刑事, 行政, 执行, 国家赔偿, 司法救助, 非诉保全."""
    return frozenset(t.category for t in case_types().values())


@functools.cache
def special_trial_codes() -> frozenset[str]:
    """专门审判代字 allowed in 案号 (法〔2018〕335号), e.g. 知."""
    return frozenset(r["code"] for r in _rows("special_trial_codes.csv"))


@functools.cache
def special_character_ranges() -> tuple[tuple[int, int, str], ...]:
    """Blacklisted code point ranges (first, last, name) for DA/T 70 GD-1-6."""
    return tuple(
        (int(r["first"], 16), int(r["last"], 16), r["name"]) for r in _rows("special_characters.csv")
    )


@functools.cache
def _special_character_pattern() -> re.Pattern[str]:
    """One character class of every blacklisted range (tab, newline and CR are allowed)."""
    parts = []
    for first, last, _ in special_character_ranges():
        for lo, hi in _minus_whitespace(first, last):
            parts.append(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}")
    return re.compile("[" + "".join(parts) + "]") if parts else re.compile(r"(?!x)x")


def _minus_whitespace(first: int, last: int) -> list[tuple[int, int]]:
    allowed = {0x09, 0x0A, 0x0D}
    pieces: list[tuple[int, int]] = []
    start = first
    for cp in range(first, min(last, 0x1F) + 1):
        if cp in allowed:
            if start < cp:
                pieces.append((start, cp - 1))
            start = cp + 1
    if start <= last:
        pieces.append((start, last))
    return pieces


def _range_name(cp: int) -> str:
    for first, last, name in special_character_ranges():
        if first <= cp <= last:
            return name
    raise ValueError(
        f"U+{cp:04X} is not in a blacklisted range"
    )  # pragma: no cover - pattern and table agree


def find_special_characters(text: str) -> list[tuple[int, str, str]]:
    """Every blacklisted character in ``text`` as (index, character, range name); empty when clean.

    One compiled character class scans the text (validation calls this for every field of every
    metadata file, so a per-character Python loop cost most of the validation time).

    >>> find_special_characters("起诉状★")
    [(3, '★', 'miscellaneous symbols ★☆')]
    """
    return [
        (m.start(), m.group(), _range_name(ord(m.group())))
        for m in _special_character_pattern().finditer(text)
    ]
