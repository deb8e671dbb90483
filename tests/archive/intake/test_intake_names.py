"""Pure rules of intake: name decoding and checks, collisions, layout, declared and streaming limits."""

from __future__ import annotations

import struct
import zlib

import pytest

import archive.intake as intake
from archive.intake.guard import Declared, EntryGuard, PackageBudget, check_declared, ratio_exceeded
from archive.intake.names import (
    EntryName,
    check_collisions,
    check_path_limits,
    common_top_folder,
    decode_zip_name,
    parse_entry_name,
    split_name,
)
from archive.intake.zip_reader import check_ranges
from standards.limits import Limits


# ------------------------------------------------------------------ decoding
def test_decode_zip_name_reads_gb18030_without_flag() -> None:
    raw = "副卷/0003-合议庭评议笔录.pdf".encode("gb18030")
    assert decode_zip_name(raw, utf8_flag=False) == "副卷/0003-合议庭评议笔录.pdf"


def test_decode_zip_name_prefers_utf8_when_valid_without_flag() -> None:
    assert decode_zip_name("正卷/起诉状.pdf".encode(), utf8_flag=False) == "正卷/起诉状.pdf"


def test_decode_zip_name_rejects_bad_utf8_with_flag() -> None:
    with pytest.raises(intake.UndecodableName):
        decode_zip_name(b"\xc3(", utf8_flag=True)


def test_decode_zip_name_rejects_bytes_invalid_in_both_encodings() -> None:
    with pytest.raises(intake.UndecodableName):
        decode_zip_name(b"\xff\xfe.pdf", utf8_flag=False)


def test_decode_zip_name_uses_unicode_path_field_only_when_crc_matches() -> None:
    raw = b"DOC~1.PDF"
    body = b"\x01" + struct.pack("<L", zlib.crc32(raw)) + "起诉状.pdf".encode()
    extra = struct.pack("<HH", 0x7075, len(body)) + body
    assert decode_zip_name(raw, utf8_flag=False, extra=extra) == "起诉状.pdf"
    assert decode_zip_name(b"OTHER.PDF", utf8_flag=False, extra=extra) == "OTHER.PDF"


# ------------------------------------------------------------------ one name
@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("/etc/passwd", intake.AbsolutePath),
        ("\\x.pdf", intake.AbsolutePath),
        ("\\\\server\\share\\x.pdf", intake.AbsolutePath),
        ("C:\\x.pdf", intake.AbsolutePath),
        ("c:x.pdf", intake.AbsolutePath),
        ("a/../b", intake.ParentSegment),
        ("a\\..\\b", intake.ParentSegment),
        ("..", intake.ParentSegment),
        ("a//b", intake.EmptySegment),
        ("", intake.EmptySegment),
        ("a/./b", intake.DotSegment),
        ("a/ . /b", intake.DotSegment),
        ("a\x00b", intake.ControlCharacterInName),
        ("a\nb", intake.ControlCharacterInName),
        ("a\x85b", intake.ControlCharacterInName),
        ("a\udcffb", intake.UndecodableName),
    ],
)
def test_split_name_rejects_hostile_name(name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        split_name(name)


def test_split_name_treats_backslash_as_separator() -> None:
    assert split_name("正卷\\0001.pdf") == ("正卷", "0001.pdf")


def test_parse_entry_name_marks_trailing_separator_as_directory() -> None:
    assert parse_entry_name("正卷/") == EntryName("正卷/", "正卷", True)
    assert parse_entry_name("正卷\\").is_dir


# ------------------------------------------------------------------ the set
def _e(raw: str, is_dir: bool = False) -> EntryName:
    return parse_entry_name(raw, is_dir=is_dir)


def test_check_collisions_accepts_distinct_names_and_repeated_directories() -> None:
    check_collisions([_e("a/"), _e("a/"), _e("a/x.pdf"), _e("b/x.pdf")])


@pytest.mark.parametrize(
    ("names", "error"),
    [
        (["x.pdf", "x.pdf"], intake.DuplicateName),
        (["caf\u00e9.pdf", "cafe\u0301.pdf"], intake.NormalizationCollision),
        (["a/x.pdf", "a\\x.pdf"], intake.NormalizationCollision),
        (["X.PDF", "x.pdf"], intake.CaseCollision),
        (["Straße.pdf", "STRASSE.pdf"], intake.CaseCollision),
        (["A/x.pdf", "a/y.pdf"], intake.CaseCollision),
        (["a", "a/x.pdf"], intake.FileDirectoryCollision),
        (["a", "a/"], intake.FileDirectoryCollision),
    ],
)
def test_check_collisions_rejects(names: list[str], error: type[Exception]) -> None:
    with pytest.raises(error):
        check_collisions([_e(n) for n in names])


def test_common_top_folder_found_only_when_every_file_shares_it() -> None:
    assert common_top_folder(["案/a.pdf", "案/b/c.pdf"]) == "案"
    assert common_top_folder(["案/a.pdf", "b.pdf"]) is None
    assert common_top_folder(["案/a.pdf", "卷/b.pdf"]) is None
    assert common_top_folder(["说明文件.xml"]) is None
    assert common_top_folder([]) is None


def test_check_path_limits_counts_characters_and_folder_levels() -> None:
    limits = Limits(path_length=10, path_depth=2)
    check_path_limits("正卷/a/b.pdf", limits)
    with pytest.raises(intake.PathTooLong):
        check_path_limits("正卷/abcdefgh.pdf", limits)
    with pytest.raises(intake.PathTooDeep):
        check_path_limits("a/b/c/d", limits)


# ------------------------------------------------------------------ limits
def test_ratio_exceeded_exempts_entries_below_floor() -> None:
    limits = Limits(compression_ratio=10, ratio_floor_bytes=1000)
    assert not ratio_exceeded(999, 1, limits)
    assert ratio_exceeded(1000, 99, limits)
    assert not ratio_exceeded(1000, 100, limits)


def test_check_declared_rejects_each_limit() -> None:
    limits = Limits(
        file_count=2, file_bytes=100, package_bytes=150, compression_ratio=10, ratio_floor_bytes=0
    )
    with pytest.raises(intake.TooManyFiles):
        check_declared([Declared("a", 1)] * 3, limits)
    with pytest.raises(intake.FileTooLarge):
        check_declared([Declared("a", 101)], limits)
    with pytest.raises(intake.PackageTooLarge):
        check_declared([Declared("a", 100), Declared("b", 51)], limits)
    with pytest.raises(intake.CompressionRatioExceeded):
        check_declared([Declared("a", 100, 9)], limits)


def test_entry_guard_stops_at_first_chunk_over_file_limit() -> None:
    limits = Limits(file_bytes=100)
    guard = EntryGuard(Declared("a", 50), limits, PackageBudget(limits))
    guard.add(50)
    with pytest.raises(intake.FileTooLarge):
        guard.add(51)


def test_entry_guard_refuses_more_bytes_than_declared() -> None:
    guard = EntryGuard(Declared("a", 10), Limits(), PackageBudget(Limits()))
    with pytest.raises(intake.SizeMismatch):
        guard.add(11)


def test_entry_guard_refuses_fewer_bytes_than_declared_at_finish() -> None:
    guard = EntryGuard(Declared("a", 10), Limits(), PackageBudget(Limits()))
    guard.add(9)
    with pytest.raises(intake.SizeMismatch):
        guard.finish()


def test_entry_guard_checks_ratio_on_real_bytes() -> None:
    limits = Limits(compression_ratio=10, ratio_floor_bytes=0)
    guard = EntryGuard(Declared("a", 10_000, 100), limits, PackageBudget(limits))
    guard.add(1000)
    with pytest.raises(intake.CompressionRatioExceeded):
        guard.add(1)


def test_package_budget_is_shared_across_entries() -> None:
    limits = Limits(package_bytes=100)
    budget = PackageBudget(limits)
    EntryGuard(Declared("a", 60), limits, budget).add(60)
    with pytest.raises(intake.PackageTooLarge):
        EntryGuard(Declared("b", 60), limits, budget).add(60)


# ------------------------------------------------------------------ byte ranges
def test_check_ranges_accepts_adjacent_ranges() -> None:
    check_ranges([(0, 10, "a"), (10, 20, "b")], start_dir=20)


def test_check_ranges_rejects_overlap_and_range_into_central_directory() -> None:
    with pytest.raises(intake.OverlappingEntries):
        check_ranges([(10, 20, "b"), (0, 11, "a")], start_dir=30)
    with pytest.raises(intake.EntryBeyondCentralDirectory):
        check_ranges([(0, 21, "a")], start_dir=20)
