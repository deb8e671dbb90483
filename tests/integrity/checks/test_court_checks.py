"""Court-package checks over the real sample: a valid dossier has no fail; each mutation fails its item."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from integrity.checks import court, environment, manual
from integrity.checks.engine import run_stage
from integrity.checks.model import CheckContext, DetectionReport, ItemResult

from .court_samples import NOW, Mutation, apply, context_for, load_mutations, make_sample

COURT = "integrity.checks.court:"


@pytest.fixture(scope="module")
def valid_ctx(tmp_path_factory: pytest.TempPathFactory) -> CheckContext:
    root = tmp_path_factory.mktemp("valid")
    return context_for(make_sample(root, documents=6), root / "staging")


def _by_id(report: DetectionReport) -> dict[str, ItemResult]:
    return {r.item: r for r in report.results}


@pytest.mark.parametrize("stage", ["GD", "YJ", "BC"])
def test_valid_sample_has_no_failed_item(valid_ctx: CheckContext, stage: str) -> None:
    report = run_stage(stage, valid_ctx)
    assert [r.item for r in report.results if r.status == "fail"] == []


def test_valid_sample_passes_the_validation_items_with_evidence_of_what_was_read(
    valid_ctx: CheckContext,
) -> None:
    results = _by_id(run_stage("GD", valid_ctx))
    for number in ("1-1", "1-2", "1-3", "1-4", "1-5", "1-6", "1-7", "1-10", "1-11", "1-12", "1-13"):
        assert results[f"GD-{number}"].status == "pass", number
    for number in ("2-1", "2-2", "2-3", "2-4", "2-5", "2-6", "2-11", "3-1", "4-3"):
        assert results[f"GD-{number}"].status == "pass", number
    assert (
        "6 份元数据" in results["GD-1-2"].evidence[0].read and "个字段" in results["GD-1-2"].evidence[0].read
    )
    assert results["GD-1-1"].evidence[0].found == "6 个文件 × 2 种算法的摘要全部一致"


def test_court_items_are_not_run_without_a_validation_report() -> None:
    ctx = CheckContext(stage="GD", now=NOW)
    for check in (
        court.check_fixity,
        court.check_sequence,
        court.check_extra_files,
        court.check_metadata_readable,
    ):
        result = check(ctx)
        assert result.status == "not_run" and result.reason == court.NO_VALIDATION


@pytest.mark.parametrize("mutation", load_mutations(), ids=lambda m: m.name)
def test_broken_sample_fails_the_right_item(mutation: Mutation, tmp_path: Path) -> None:
    folder = make_sample(tmp_path)
    apply(folder, mutation)
    result = _by_id(run_stage(mutation.stage, context_for(folder, tmp_path / "staging", mutation.stage)))[
        mutation.item
    ]
    assert result.status == "fail"
    assert all(p.item == mutation.item for p in result.problems)  # re-keyed to the stage run
    if mutation.code:
        assert mutation.code in {p.code for p in result.problems}
    assert result.evidence and result.evidence[0].found.startswith("发现")


def test_items_whose_part_could_not_be_read_are_not_run_rather_than_passed(tmp_path: Path) -> None:
    folder = make_sample(tmp_path)
    (folder / "目录文件.xml").write_text("<文件目录", encoding="utf-8")
    results = _by_id(run_stage("GD", context_for(folder, tmp_path / "staging")))
    assert results["GD-3-1"].status == "fail"
    for number in ("2-6", "1-10", "4-3"):
        assert results[f"GD-{number}"].status == "not_run", number


# ------------------------------------------------------------------------------------- fact-driven
def test_package_digest_before_and_after_decide_1_14(valid_ctx: CheckContext) -> None:
    digest = "ab" * 32
    assert court.check_package_consistency(valid_ctx).status == "not_run"
    same = dataclasses.replace(
        valid_ctx, facts={"package_digest_before": digest, "package_digest_after": digest}
    )
    assert court.check_package_consistency(same).status == "pass"
    other = dataclasses.replace(
        valid_ctx, facts={"package_digest_before": digest, "package_digest_after": "cd" * 32}
    )
    result = court.check_package_consistency(other)
    assert result.status == "fail" and result.problems[0].code == "package_digest_mismatch"


def test_catalog_readable_fact_decides_3_2(valid_ctx: CheckContext) -> None:
    assert court.check_catalog_accessible(valid_ctx).status == "not_run"
    ok = dataclasses.replace(valid_ctx, facts={"catalog_readable": True})
    assert court.check_catalog_accessible(ok).status == "pass"
    down = dataclasses.replace(
        valid_ctx, facts={"catalog_readable": False, "catalog_detail": "connection refused"}
    )
    result = court.check_catalog_accessible(down)
    assert result.status == "fail" and "connection refused" in result.problems[0].message


def test_duplicates_warn_until_the_catalog_was_asked_and_fail_on_an_archived_case(
    valid_ctx: CheckContext,
) -> None:
    assert court.check_duplicates(valid_ctx).status == "warn"
    none = dataclasses.replace(valid_ctx, facts={"duplicate_archives": []})
    assert court.check_duplicates(none).status == "pass"
    twice = dataclasses.replace(valid_ctx, facts={"duplicate_archives": ["A-2025-0001"]})
    result = court.check_duplicates(twice)
    assert result.status == "fail" and result.problems[0].code == "case_already_archived"


def test_archiving_scope_is_not_run_without_a_scope_table_and_checks_titles_with_one(
    valid_ctx: CheckContext,
) -> None:
    assert court.check_archiving_scope(valid_ctx).status == "not_run"
    assert valid_ctx.validation is not None
    case_type = valid_ctx.validation.description.case_type
    titles = [e.title for e in valid_ctx.validation.entries]
    covered = dataclasses.replace(valid_ctx, config={"archiving_scope": {case_type: titles[:2]}})
    assert court.check_archiving_scope(covered).status == "pass"
    missing = dataclasses.replace(
        valid_ctx, config={"archiving_scope": {case_type: [*titles[:1], "不存在的文书"]}}
    )
    result = court.check_archiving_scope(missing)
    assert result.status == "fail" and "不存在的文书" in result.problems[0].message
    other = dataclasses.replace(valid_ctx, config={"archiving_scope": {"海事": ["起诉状"]}})
    assert court.check_archiving_scope(other).status == "not_run"


# ------------------------------------------------------------------------------------- environment
def test_archive_codes_are_not_run_unconfigured_and_compared_when_configured(valid_ctx: CheckContext) -> None:
    yj = dataclasses.replace(valid_ctx, stage="YJ")
    assert environment.check_archive_codes(yj).status == "not_run"
    fonds = valid_ctx.validation.description.fonds_code
    accepted = dataclasses.replace(
        yj, config={"archive_fonds_codes": (fonds,), "archive_class_codes": ("SS",)}
    )
    assert environment.check_archive_codes(accepted).status == "pass"
    refused = dataclasses.replace(yj, config={"archive_fonds_codes": ("Z999",)})
    result = environment.check_archive_codes(refused)
    assert result.status == "fail" and result.item == "YJ-1-9"
    assert result.problems[0].code == "fonds_code_not_accepted"


def test_recorded_environment_must_be_present_and_plausible(valid_ctx: CheckContext) -> None:
    assert environment.check_recorded_environment(valid_ctx).status == "pass"
    desc = valid_ctx.validation.description
    vague = dataclasses.replace(desc, environment=dataclasses.replace(desc.environment, hardware="未知"))
    bad = dataclasses.replace(
        valid_ctx, validation=dataclasses.replace(valid_ctx.validation, description=vague)
    )
    assert environment.check_recorded_environment(bad).status == "fail"
    unversioned = dataclasses.replace(
        desc, environment=dataclasses.replace(desc.environment, software="电子卷宗系统")
    )
    warn = dataclasses.replace(
        valid_ctx, validation=dataclasses.replace(valid_ctx.validation, description=unversioned)
    )
    assert environment.check_recorded_environment(warn).status == "warn"


def test_environment_change_warns_and_names_what_changed() -> None:
    recorded = {"os": "Linux", "python": "3.11.7"}
    ctx = CheckContext(
        stage="BC", now=NOW, facts={"recorded_environment": recorded, "environment": dict(recorded)}
    )
    assert environment.check_environment_change(ctx).status == "pass"
    changed = dataclasses.replace(
        ctx, facts={"recorded_environment": recorded, "environment": {**recorded, "python": "3.12.1"}}
    )
    result = environment.check_environment_change(changed)
    assert result.status == "warn" and "3.11.7 → 3.12.1" in result.evidence[0].found
    assert environment.check_environment_change(CheckContext(stage="BC", now=NOW)).status == "not_run"


def test_read_speed_is_compared_with_the_configured_minimum() -> None:
    slow = CheckContext(stage="BC", now=NOW, facts={"read_mb_per_s": 5.0, "read_bytes": 10_000_000})
    assert environment.check_read_speed(slow).status == "fail"
    assert (
        environment.check_read_speed(dataclasses.replace(slow, config={"min_read_mb_per_s": 1})).status
        == "pass"
    )
    assert environment.check_read_speed(CheckContext(stage="BC", now=NOW)).status == "not_run"


def test_read_speed_of_a_tiny_sample_is_not_judged() -> None:
    """Regression: a 3 KB package 'read' at 12.9 MB/s (opening files, not the carrier) and failed 4-4."""
    tiny = CheckContext(stage="GD", now=NOW, facts={"read_mb_per_s": 12.9, "read_bytes": 3_000})
    result = environment.check_read_speed(tiny)
    assert result.status == "not_run" and result.reason is not None and "3,000" in result.reason


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        ({"actor": "clerk-01", "transport": "https", "audit_logged": True}, "pass"),
        ({"actor": "clerk-01", "transport": "local", "audit_logged": True}, "pass"),
        ({"actor": "clerk-01", "transport": "http", "audit_logged": True}, "fail"),
        ({"actor": "clerk-01", "transport": "https", "audit_logged": False}, "fail"),
        ({"actor": "clerk-01", "transport": "https"}, "warn"),
        ({"transport": "https", "audit_logged": True}, "warn"),
        ({}, "warn"),
    ],
)
def test_process_security_needs_actor_log_and_protected_transport(
    facts: dict[str, object], status: str
) -> None:
    assert environment.check_process_security(CheckContext(stage="GD", now=NOW, facts=facts)).status == status


# ------------------------------------------------------------------------------------------ manual
@pytest.mark.parametrize("stage", ["GD", "YJ", "BC"])
def test_manual_items_say_what_to_confirm_and_where_to_record_it(stage: str) -> None:
    ctx = CheckContext(stage=stage, now=NOW)  # type: ignore[arg-type]
    for check in (
        manual.check_content_integrity,
        manual.check_attachment_integrity,
        manual.check_carrier_appearance,
    ):
        result = check(ctx)
        assert result.status == "manual" and result.item.startswith(stage)
        assert result.checklist and "记录" in result.checklist
    assert "表A.1" in (manual.check_content_integrity(CheckContext(stage="GD", now=NOW)).checklist or "")


def test_items_this_system_cannot_answer_never_pass() -> None:
    ctx = CheckContext(stage="BC", now=NOW)
    assert (
        manual.check_optical_disc(CheckContext(stage="GD", now=NOW)).reason
        == "本系统在线归档，不涉及光盘载体"
    )
    assert manual.check_vulnerability_scan(ctx).status == "manual"
    assert manual.check_storage_environment(ctx).status == "manual"
    backup = manual.check_backup_restorable(ctx)
    assert backup.status == "not_run" and backup.reason == "未配置备份"
