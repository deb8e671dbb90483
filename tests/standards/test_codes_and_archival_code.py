from __future__ import annotations

import pytest

from standards.archival_code import ArchivalCodeMalformedError, parse_archival_code
from standards.codes import (
    case_categories,
    case_types,
    classifications,
    file_formats,
    find_special_characters,
    retention_periods,
)


def test_retention_scheme_is_the_court_scheme() -> None:
    periods = retention_periods()
    assert {k: v.years for k, v in periods.items()} == {"永久": None, "长期": 60, "短期": 30}
    assert max(periods.values(), key=lambda p: p.rank).code == "永久"


def test_code_tables_hold_expected_values() -> None:
    assert classifications() == ("公开", "内部", "秘密", "机密", "绝密")
    assert {"pdf"} == file_formats()["PDF"].extensions
    assert "jpeg" in file_formats()["JPEG"].extensions
    assert case_types()["执他"].category == "执行"
    assert {"民事", "刑事", "行政", "执行", "国家赔偿", "司法救助", "非诉保全"} == case_categories()


@pytest.mark.parametrize("text", ["起诉状\x01", "起诉状\u0085", "起诉状★", "〓", "\ue000", "a\u200bb"])
def test_find_special_characters_flags_blacklisted(text: str) -> None:
    assert find_special_characters(text)


@pytest.mark.parametrize(
    "text", ["（2024）粤0306民初1234号", "起诉状\n", "J001-SS·2024-Y-0012-0001", "王某、李某"]
)
def test_find_special_characters_accepts_ordinary_text(text: str) -> None:
    assert find_special_characters(text) == []


def test_parse_archival_code_splits_parts() -> None:
    code = parse_archival_code("J001-SS·2024-Y-0012-0001")
    assert (code.fonds, code.category, code.year, code.retention, code.volume, code.item) == (
        "J001",
        "SS",
        2024,
        "Y",
        12,
        1,
    )


@pytest.mark.parametrize(
    "text", ["", "J001-SS-2024-Y-0012-0001", "J001-SS·24-Y-0012-0001", "j001-SS·2024-Y-1-1"]
)
def test_parse_archival_code_rejects_malformed(text: str) -> None:
    with pytest.raises(ArchivalCodeMalformedError):
        parse_archival_code(text)


def _naive_special_characters(text: str) -> list[tuple[int, str, str]]:
    from standards.codes import special_character_ranges

    found = []
    for i, ch in enumerate(text):
        cp = ord(ch)
        if ch in "\t\n\r":
            continue
        for first, last, name in special_character_ranges():
            if first <= cp <= last:
                found.append((i, ch, name))
                break
    return found


def test_find_special_characters_agrees_with_the_range_table_on_any_text() -> None:
    """Regression guard for the compiled character class that replaced a per-character loop."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from standards.codes import find_special_characters, special_character_ranges

    edges = [
        chr(c)
        for first, last, _ in special_character_ranges()
        for c in (first, last, first - 1, last + 1)
        if 0 <= c < 0x110000 and not 0xD800 <= c <= 0xDFFF
    ]
    alphabet = st.one_of(st.characters(), st.sampled_from([*edges, "\t", "\n", "\r", "起", "★"]))

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=alphabet, max_size=40))
    def check(text: str) -> None:
        assert find_special_characters(text) == _naive_special_characters(text)

    check()
