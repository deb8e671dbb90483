"""validate_court_package: one valid package, then one mutation per rule with its exact problem codes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from standards.court_package import CATALOG_FILE, DESCRIPTION_FILE, metadata_path
from standards.limits import Limits
from standards.package import StagedPackage
from standards.validation import validate_court_package
from tests.standards.builders import TODAY, TZ, Mutation, PackageSpec, metadata_for, stage, valid_spec

LIMITS = Limits()


def run(tmp_path: Path, mutate: Mutation | None = None) -> list[tuple[str, str | None, str | None]]:
    spec = valid_spec()
    if mutate is not None:
        mutate(spec)
    report = validate_court_package(spec.write(tmp_path), limits=LIMITS, today=TODAY)
    return sorted((p.code, p.item, p.path) for p in report.problems)


def test_valid_package_has_zero_problems(tmp_path: Path) -> None:
    spec = valid_spec()
    report = validate_court_package(spec.write(tmp_path), limits=LIMITS, today=TODAY)
    assert report.problems == []
    assert report.passed
    assert report.description == spec.description
    assert report.entries == spec.entries
    assert report.metadata == spec.metadata


def test_valid_package_inside_one_top_folder_passes(tmp_path: Path) -> None:
    files = {f"案卷/{p}": b for p, b in valid_spec().files().items()}
    report = validate_court_package(stage(tmp_path, files), limits=LIMITS, today=TODAY)
    assert report.problems == []


def _desc(**changes: object) -> Mutation:
    def m(s: PackageSpec) -> None:
        s.description = dataclasses.replace(s.description, **changes)  # type: ignore[arg-type]

    return m


def _entry(seq: int, fix_metadata: bool = True, **changes: object) -> Mutation:
    return lambda s: s.replace_entry(seq, fix_metadata, **changes)


def _meta(seq: int, **changes: object) -> Mutation:
    def m(s: PackageSpec) -> None:
        s.metadata[seq] = dataclasses.replace(s.metadata[seq], **changes)  # type: ignore[arg-type]

    return m


def _raw(path: str, data: bytes) -> Mutation:
    return lambda s: s.raw.__setitem__(path, data)


def _drop(path: str) -> Mutation:
    return lambda s: s.drop.add(path)


def _replace_bytes(path: str, old: str, new: str) -> Mutation:
    def m(s: PackageSpec) -> None:
        s.raw[path] = s.files()[path].replace(old.encode(), new.encode())

    return m


def _renumber_third_to(n: int) -> Mutation:
    def m(s: PackageSpec) -> None:
        e = s.entries[2]
        s.entries[2] = dataclasses.replace(e, sequence=n)
        s.metadata[n] = dataclasses.replace(s.metadata.pop(3), sequence=n)

    return m


CORRUPT = b"%PDF-1.7 complainT\n"  # same length as the original 起诉状 bytes
P1 = "正卷/0001-起诉状.pdf"
M1 = metadata_path(1)

MUTATIONS: dict[str, tuple[Mutation, list[tuple[str, str, str]]]] = {
    "description_missing": (_drop(DESCRIPTION_FILE), [("description_missing", "GD-1-12", DESCRIPTION_FILE)]),
    "catalog_missing": (_drop(CATALOG_FILE), [("catalog_missing", "GD-1-12", CATALOG_FILE)]),
    "content_digest_changed": (
        _raw(P1, CORRUPT),
        [("digest_mismatch", "GD-1-1", P1), ("digest_mismatch", "GD-1-1", P1)],
    ),
    "content_file_missing": (
        _drop(P1),
        [
            ("content_bytes_mismatch", "GD-2-2", DESCRIPTION_FILE),
            ("content_file_count_mismatch", "GD-2-11", DESCRIPTION_FILE),
            ("file_missing", "GD-1-11", P1),
        ],
    ),
    "extra_file_in_volume": (
        _raw("正卷/0009-多余.pdf", b"x"),
        [
            ("content_bytes_mismatch", "GD-2-2", DESCRIPTION_FILE),
            ("content_file_count_mismatch", "GD-2-11", DESCRIPTION_FILE),
            ("unlisted_file", "GD-4-3", "正卷/0009-多余.pdf"),
        ],
    ),
    "extra_file_outside_layout": (
        _raw("其他/说明.txt", b"x"),
        [("layout_violation", "GD-1-13", "其他/说明.txt"), ("unlisted_file", "GD-4-3", "其他/说明.txt")],
    ),
    "metadata_missing": (_drop(M1), [("metadata_missing", "GD-1-11", M1)]),
    "metadata_title_differs": (_meta(1, title="起诉书"), [("metadata_mismatch", "GD-1-11", M1)]),
    "metadata_case_number_differs": (
        _meta(1, case_number="（2024）粤0306民初1235号"),
        [("case_number_mismatch", "GD-1-7", M1)],
    ),
    "metadata_without_history": (_meta(1, history=()), [("process_metadata_missing", "GD-2-5", M1)]),
    "document_count_wrong": (
        _desc(document_count=4),
        [
            ("content_file_count_mismatch", "GD-2-11", DESCRIPTION_FILE),
            ("document_count_mismatch", "GD-2-1", DESCRIPTION_FILE),
        ],
    ),
    "total_bytes_wrong": (
        _desc(total_bytes=1),
        [
            ("content_bytes_mismatch", "GD-2-2", DESCRIPTION_FILE),
            ("total_bytes_mismatch", "GD-2-2", DESCRIPTION_FILE),
        ],
    ),
    "sequence_gap": (
        _renumber_third_to(4),
        [("file_name_mismatch", "GD-1-13", CATALOG_FILE), ("sequence_gap", "GD-2-6", CATALOG_FILE)],
    ),
    "retention_not_in_domain": (
        _entry(1, retention="定期"),
        [("value_not_in_domain", "GD-1-4", CATALOG_FILE)],
    ),
    "classification_not_in_domain": (
        _entry(1, classification="保密"),
        [("value_not_in_domain", "GD-1-4", CATALOG_FILE)],
    ),
    "format_not_in_domain": (_entry(1, format="DOCX"), [("value_not_in_domain", "GD-1-4", CATALOG_FILE)]),
    "format_extension_mismatch": (
        _entry(1, format="OFD"),
        [("format_extension_mismatch", "GD-1-10", CATALOG_FILE)],
    ),
    "title_empty": (_entry(1, title=""), [("mandatory_field_empty", "GD-2-4", CATALOG_FILE)]),
    "document_date_in_future": (
        _entry(1, date=dt.date(2025, 3, 2)),
        [("value_implausible", "GD-1-5", CATALOG_FILE)],
    ),
    "document_date_before_1949": (
        _entry(1, date=dt.date(1948, 1, 1)),
        [("value_implausible", "GD-1-5", CATALOG_FILE)],
    ),
    "submitted_before_closing": (
        _desc(submitted_at=dt.datetime(2024, 12, 1, tzinfo=TZ)),
        [("value_implausible", "GD-1-5", DESCRIPTION_FILE)],
    ),
    "digitised_without_paper_location": (
        _entry(1, origin="纸质原件数字化"),
        [("paper_location_missing", "GD-2-4", CATALOG_FILE), ("scan_attributes_missing", "GD-2-4", M1)],
    ),
    "special_character_in_title": (
        _entry(1, title="起诉状★"),
        [("special_character", "GD-1-6", CATALOG_FILE), ("special_character", "GD-1-6", M1)],
    ),
    "case_number_unknown_type": (
        _desc(case_number="（2024）粤0306民啊1234号"),
        [
            ("case_number_mismatch", "GD-1-7", CATALOG_FILE),
            ("case_number_mismatch", "GD-1-7", M1),
            ("case_number_mismatch", "GD-1-7", metadata_path(2)),
            ("case_number_mismatch", "GD-1-7", metadata_path(3)),
            ("case_number_unknown_type", "GD-1-7", DESCRIPTION_FILE),
        ],
    ),
    "catalog_case_number_differs": (
        lambda s: setattr(s, "catalog_case_number", "（2024）粤0306民初9号"),
        [("case_number_mismatch", "GD-1-7", CATALOG_FILE)],
    ),
    "archival_code_duplicate": (
        _entry(2, archival_code="J001-SS·2024-Y-0012-0001"),
        [("archival_code_duplicate", "GD-1-8", CATALOG_FILE)],
    ),
    "archival_code_malformed": (
        _entry(1, archival_code="J001/2024/1"),
        [("archival_code_malformed", "GD-1-7", CATALOG_FILE)],
    ),
    "archival_code_wrong_fonds": (
        _entry(1, archival_code="J002-SS·2024-Y-0012-0001"),
        [("archival_code_fonds_mismatch", "GD-1-7", CATALOG_FILE)],
    ),
    "dossier_retention_not_longest": (
        _desc(retention="长期"),
        [("value_implausible", "GD-1-5", DESCRIPTION_FILE)],
    ),
    "volume_folder_mismatch": (
        _entry(1, volume="副卷"),
        [("volume_folder_mismatch", "GD-1-13", CATALOG_FILE)],
    ),
    "catalog_not_well_formed": (
        _replace_bytes(CATALOG_FILE, "</文件目录>", ""),
        [("xml_malformed", "GD-3-1", CATALOG_FILE)],
    ),
    "catalog_doctype": (
        _replace_bytes(CATALOG_FILE, "?>\n", '?>\n<!DOCTYPE x [<!ENTITY e "x">]>\n'),
        [("xml_doctype_forbidden", "GD-3-1", CATALOG_FILE)],
    ),
    "metadata_digest_not_hex": (
        _replace_bytes(M1, 'SM3">', 'SM3">zz'),
        [("metadata_mismatch", "GD-1-11", M1), ("xsd_invalid", "GD-1-3", M1)],
    ),
    "title_too_long": (
        _entry(1, fix_metadata=False, title="长" * 501),
        [("field_too_long", "GD-1-2", CATALOG_FILE), ("metadata_mismatch", "GD-1-11", M1)],
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_validate_court_package_reports_mutation(tmp_path: Path, name: str) -> None:
    mutate, expected = MUTATIONS[name]
    assert run(tmp_path, mutate) == sorted(expected)


def test_problems_carry_catalog_line_numbers(tmp_path: Path) -> None:
    spec = valid_spec()
    spec.replace_entry(2, classification="保密")
    report = validate_court_package(spec.write(tmp_path), limits=LIMITS, today=TODAY)
    (problem,) = report.problems
    lines = spec.files()[CATALOG_FILE].decode().splitlines()
    assert problem.line is not None
    assert "<文件>" in lines[problem.line - 1]
    assert "保密" in problem.message


def test_metadata_agreeing_with_changed_entry_is_not_reported(tmp_path: Path) -> None:
    spec = valid_spec()
    spec.replace_entry(1, author="原告王某")
    assert spec.metadata[1] == metadata_for(spec.entries[0])
    assert run(tmp_path, lambda s: s.replace_entry(1, author="原告王某")) == []


def test_xml_over_limit_is_reported_not_raised(tmp_path: Path) -> None:
    pkg: StagedPackage = valid_spec().write(tmp_path)
    report = validate_court_package(pkg, limits=Limits(xml_bytes=200), today=TODAY)
    assert {p.code for p in report.problems} >= {"xml_too_large"}
    assert not report.passed


def test_process_time_in_china_after_utc_midnight_is_not_in_the_future() -> None:
    """Regression: 02:00+08:00 on the 24th is still the 23rd in UTC; it was reported as a future time."""
    import datetime as dt

    from standards.rules_fields import after_day

    cst = dt.timezone(dt.timedelta(hours=8))
    assert not after_day(dt.datetime(2026, 11, 24, 2, 14, tzinfo=cst), dt.date(2026, 11, 23))
    assert after_day(dt.datetime(2026, 11, 25, 13, 0, tzinfo=cst), dt.date(2026, 11, 23))
