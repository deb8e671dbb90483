"""x-3-3, x-3-4, BC-3-5 and x-3-8 over facts gathered from real packages and from hand-made facts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from archive.intake import open_package
from archive.sample import generate_sample
from archive.settings import Settings
from integrity.checks.formats import (
    check_format_identification,
    check_long_term_format,
    check_package_format_compliance,
    check_readability,
    gather_format_facts,
    normalise_format,
)
from integrity.checks.model import CheckContext, Stage
from standards.limits import Limits
from standards.package import StagedPackage
from standards.validation import ValidationReport, validate_court_package

NOW = dt.datetime(2025, 3, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "formats"
SETTINGS = Settings(data_dir=Path("/nonexistent-edossier-data"))
CONFIG = {"allowed_formats": SETTINGS.allowed_formats, "long_term_formats": SETTINGS.long_term_formats}


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[StagedPackage, ValidationReport]:
    root = tmp_path_factory.mktemp("formats")
    sample = generate_sample(root / "pkg", seed=5, documents=3, now=NOW)
    package = open_package(sample.path, root / "staging", limits=Limits())
    return package, validate_court_package(package, limits=Limits(), today=NOW.date())


def _ctx(
    package: StagedPackage | None,
    validation: Any,
    facts: Mapping[str, Any],
    *,
    stage: Stage = "GD",
    config: Mapping[str, Any] = CONFIG,
) -> CheckContext:
    return CheckContext(
        stage=stage, now=NOW, package=package, validation=validation, facts=facts, config=config
    )


def _copy(package: StagedPackage, tmp_path: Path) -> StagedPackage:
    """A private copy of the staged package that a test may damage."""
    root = tmp_path / "copy"
    shutil.copytree(package.root, root)
    return dataclasses.replace(package, root=root)


def test_sample_package_passes_all_four_items(staged: tuple[StagedPackage, ValidationReport]) -> None:
    package, report = staged
    facts = gather_format_facts(package, SETTINGS, "GD")
    ctx = _ctx(package, report, facts)
    results = [
        check(ctx)
        for check in (check_format_identification, check_readability, check_package_format_compliance)
    ]
    results.append(check_long_term_format(_ctx(package, report, facts, stage="BC")))
    assert [(r.item, r.status) for r in results] == [
        ("GD-3-3", "pass"), ("GD-3-4", "pass"), ("GD-3-8", "pass"), ("BC-3-5", "pass"),
    ]  # fmt: skip
    assert all(r.evidence for r in results)


def test_gatherer_identifies_metadata_and_package_xml_as_xml(
    staged: tuple[StagedPackage, ValidationReport],
) -> None:
    package, _ = staged
    formats = gather_format_facts(package, SETTINGS, "GD")["formats"]
    assert set(formats) == {f.path for f in package.files}
    assert {v["format"] for p, v in formats.items() if p.endswith(".xml")} == {"XML"}


def test_text_file_named_pdf_fails_identification_and_readability(
    staged: tuple[StagedPackage, ValidationReport], tmp_path: Path
) -> None:
    package, report = staged
    damaged = _copy(package, tmp_path)
    victim = report.entries[0].file_path
    shutil.copyfile(VECTORS / "invalid" / "text_renamed.pdf", damaged.local_path(victim))
    ctx = _ctx(damaged, report, gather_format_facts(damaged, SETTINGS, "GD"))

    ident, readable = check_format_identification(ctx), check_readability(ctx)

    assert ident.status == "fail"
    assert {p.code for p in ident.problems} == {"format_mismatch", "format_not_allowed"}
    assert all(p.item == "GD-3-3" and p.path == victim for p in ident.problems)
    assert readable.status == "fail"
    assert [(p.code, p.item) for p in readable.problems] == [("content_unreadable", "GD-3-4")]


def test_page_count_differing_from_catalogue_fails_readability(
    staged: tuple[StagedPackage, ValidationReport], tmp_path: Path
) -> None:
    package, report = staged
    damaged = _copy(package, tmp_path)
    victim = report.entries[1]
    shutil.copyfile(VECTORS / "valid" / "two_pages.pdf", damaged.local_path(victim.file_path))
    ctx = _ctx(damaged, report, gather_format_facts(damaged, SETTINGS, "YJ"), stage="YJ")

    result = check_readability(ctx)

    assert result.status == "fail"
    assert [p.code for p in result.problems] == ["page_count_mismatch"]
    assert f"{victim.pages}" in result.problems[0].message and "实际 2 页" in result.problems[0].message


def test_owner_password_pdf_is_readable_but_not_compliant(
    staged: tuple[StagedPackage, ValidationReport], tmp_path: Path
) -> None:
    package, report = staged
    damaged = _copy(package, tmp_path)
    victim = report.entries[2].file_path
    shutil.copyfile(VECTORS / "invalid" / "owner_password_only.pdf", damaged.local_path(victim))
    ctx = _ctx(damaged, report, gather_format_facts(damaged, SETTINGS, "GD"))

    compliance = check_package_format_compliance(ctx)

    assert compliance.status == "fail"
    assert [(p.code, p.path) for p in compliance.problems] == [("encrypted_content", victim)]
    assert check_format_identification(ctx).status == "pass"


def _fact(fmt: str, *, ok: bool = True, pages: int | None = None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "format": fmt, "mime": "", "detail": "", "ok": ok, "pages": pages, "encrypted": False,
        "created": None, "code": None if ok else "x", "error": None if ok else "坏了",
        "compression_methods": [], "details": {},
    }  # fmt: skip
    base.update(extra)
    return base


def test_checks_without_facts_are_not_run_never_pass() -> None:
    ctx = _ctx(None, None, {})
    for check in (check_format_identification, check_readability, check_long_term_format,
                  check_package_format_compliance):  # fmt: skip
        result = check(ctx)
        assert result.status == "not_run"
        assert result.reason


def test_checks_without_policy_are_not_run() -> None:
    ctx = _ctx(None, None, {"formats": {"a.pdf": _fact("PDF")}}, config={})
    assert check_format_identification(ctx).status == "not_run"
    assert check_long_term_format(ctx).status == "not_run"
    assert check_package_format_compliance(ctx).status == "not_run"


def test_package_without_content_files_is_not_run_for_identification() -> None:
    ctx = _ctx(None, None, {"formats": {"说明文件.xml": _fact("XML"), "元数据/0001.xml": _fact("XML")}})
    assert check_format_identification(ctx).status == "not_run"


def test_without_validation_every_non_package_file_is_content() -> None:
    facts = {"formats": {"说明文件.xml": _fact("XML"), "正卷/a.avi": _fact("UNKNOWN", ok=False)}}
    result = check_format_identification(_ctx(None, None, facts))
    assert result.status == "fail"
    assert [p.path for p in result.problems] == ["正卷/a.avi"]


def test_long_term_check_fails_a_format_outside_the_policy() -> None:
    facts = {"formats": {"正卷/a.pdf": _fact("PDF"), "正卷/b.mp3": _fact("MP3")}}
    config = {"long_term_formats": ("PDF", "OFD")}
    result = check_long_term_format(_ctx(None, None, facts, stage="BC", config=config))
    assert (result.item, result.status) == ("BC-3-5", "fail")
    assert [(p.code, p.path) for p in result.problems] == [("format_not_long_term", "正卷/b.mp3")]


def test_compliance_fails_lzma_inside_an_ofd() -> None:
    facts = {"formats": {"正卷/a.ofd": _fact("OFD", pages=1, compression_methods=[8, 14])}}
    result = check_package_format_compliance(_ctx(None, None, facts, stage="YJ"))
    assert (result.item, result.status) == ("YJ-3-8", "fail")
    assert [p.code for p in result.problems] == ["non_public_compression"]
    assert "lzma" in result.problems[0].message


def test_missing_content_file_warns_instead_of_passing(
    staged: tuple[StagedPackage, ValidationReport],
) -> None:
    package, report = staged
    facts = gather_format_facts(package, SETTINGS, "GD")
    first = report.entries[0].file_path
    partial = {"formats": {k: v for k, v in facts["formats"].items() if k != first}}
    result = check_readability(_ctx(package, report, partial))
    assert result.status == "warn"
    assert [(p.code, p.path) for p in result.problems] == [("format_not_checked", first)]


@pytest.mark.parametrize(
    ("raw", "code"), [("pdf", "PDF"), (" JPG ", "JPEG"), ("tif", "TIFF"), (".ofd", "OFD")]
)
def test_recorded_format_spellings_normalise_to_codes(raw: str, code: str) -> None:
    assert normalise_format(raw) == code
