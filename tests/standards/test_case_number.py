from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from standards.case_number import (
    CaseNumber,
    CaseNumberError,
    CaseNumberHalfWidthBracketsError,
    check_case_number,
    normalise_case_number,
    parse_case_number,
)

TODAY = dt.date(2025, 6, 1)
ROWS = list(
    csv.DictReader(
        (Path(__file__).parents[1] / "vectors/case_numbers/case_numbers.csv").open(encoding="utf-8")
    )
)


@pytest.mark.parametrize("row", [r for r in ROWS if r["expected"] == "ok"], ids=lambda r: r["text"])
def test_parse_case_number_accepts_valid_vector(row: dict[str, str]) -> None:
    cn = parse_case_number(row["text"], today=TODAY)
    assert cn == CaseNumber(
        int(row["year"]),
        row["court_code"],
        row["special_code"] or None,
        row["type_code"],
        row["serial"],
        row["category"],
    )
    assert str(cn) == row["text"]


@pytest.mark.parametrize("row", [r for r in ROWS if r["expected"] != "ok"], ids=lambda r: r["text"])
def test_parse_case_number_rejects_invalid_vector_with_its_class(row: dict[str, str]) -> None:
    with pytest.raises(CaseNumberError) as info:
        parse_case_number(row["text"], today=TODAY)
    assert info.value.code == row["expected"]
    assert row["text"] in info.value.message


def test_error_codes_are_distinct_per_class() -> None:
    classes = CaseNumberError.__subclasses__()
    assert len({c.code for c in classes}) == len(classes) >= 6


def test_normalise_then_parse_accepts_half_width_brackets() -> None:
    with pytest.raises(CaseNumberHalfWidthBracketsError):
        parse_case_number("(2024)粤0306民初1234号", today=TODAY)
    assert (
        parse_case_number(normalise_case_number(" (2024)粤0306民初１２３４号"), today=TODAY).serial == "1234"
    )


def test_year_next_year_is_plausible_but_not_two_years_ahead() -> None:
    assert check_case_number("（2026）粤民初1号", today=TODAY) is None
    err = check_case_number("（2027）粤民初1号", today=TODAY)
    assert err is not None
    assert err.code == "case_number_year_implausible"
