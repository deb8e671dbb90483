"""The stage engine answers every stage-item, and turns every failure of a check into not_run."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from archive.settings import Settings
from integrity.checks.engine import config_from_settings, gather_facts, run_item, run_stage
from integrity.checks.model import CheckContext, ItemResult, StageItem
from integrity.checks.registry import items_for
from standards.package import StagedPackage

from .court_samples import NOW, context_for, make_sample

HERE = "tests.integrity.checks.test_engine"


# Checks and gatherers the tests point stage-items at by dotted path.
def check_ok(ctx: CheckContext) -> ItemResult:
    return ItemResult(ctx.item_id("1-1"), "pass", "通过")


def check_boom(ctx: CheckContext) -> ItemResult:
    raise RuntimeError("disk on fire")


def check_wrong_item(ctx: CheckContext) -> ItemResult:
    return ItemResult("GD-9-9", "pass", "通过")


def check_not_a_result(ctx: CheckContext) -> object:
    return "pass"


def gather_good(package: StagedPackage, settings: Settings, stage: str) -> dict[str, Any]:
    return {"good": stage, "shared": 1}


def gather_shared(package: StagedPackage, settings: Settings, stage: str) -> dict[str, Any]:
    return {"shared": 2, "more": True}


def gather_boom(package: StagedPackage, settings: Settings, stage: str) -> dict[str, Any]:
    raise OSError("clamd socket refused")


def _item(check: str, stage: str = "GD") -> StageItem:
    return StageItem(f"{stage}-1-1", "1-1", "固化信息有效性检测", "真实性", stage, "automated", check)  # type: ignore[arg-type]


def _ctx() -> CheckContext:
    return CheckContext(stage="GD", now=NOW)


def test_a_check_whose_module_is_not_written_yet_is_not_run() -> None:
    result = run_item(_item("integrity.checks.not_written_yet:check_x"), _ctx())
    assert result.status == "not_run"
    assert result.reason and "ModuleNotFoundError" in result.reason and "not_written_yet" in result.reason


def test_a_check_function_missing_from_its_module_is_not_run() -> None:
    result = run_item(_item(f"{HERE}:check_missing"), _ctx())
    assert result.status == "not_run"
    assert result.reason and "check_missing" in result.reason


def test_a_check_that_raises_is_not_run_with_the_exception_named(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        result = run_item(_item(f"{HERE}:check_boom"), _ctx())
    assert result.status == "not_run"
    assert result.reason and "RuntimeError: disk on fire" in result.reason
    assert "check_boom" in caplog.text


@pytest.mark.parametrize("check", ["check_wrong_item", "check_not_a_result"])
def test_a_check_answering_the_wrong_thing_is_not_run(check: str) -> None:
    result = run_item(_item(f"{HERE}:{check}"), _ctx())
    assert result.status == "not_run"


def test_run_stage_uses_the_stage_asked_for_not_the_contexts() -> None:
    report = run_stage("YJ", _ctx(), [_item(f"{HERE}:check_ok", "YJ")], subject="（2024）京0105执1743号")
    assert [r.item for r in report.results] == ["YJ-1-1"]
    assert report.stage == "YJ" and report.created_at == NOW and report.subject == "（2024）京0105执1743号"
    assert report.passed


def test_run_stage_accepts_the_context_as_keyword_arguments() -> None:
    report = run_stage("BC", {"now": NOW, "facts": {"x": 1}}, [_item(f"{HERE}:check_ok", "BC")])
    assert report.results[0].status == "pass"


def test_run_stage_rejects_an_item_of_another_stage_and_an_unknown_stage() -> None:
    with pytest.raises(ValueError, match="GD-1-1"):
        run_stage("YJ", _ctx(), [_item(f"{HERE}:check_ok", "GD")])
    with pytest.raises(ValueError, match="stage"):
        run_stage("XX", _ctx())


def test_a_report_of_zero_items_has_not_passed() -> None:
    assert not run_stage("GD", _ctx(), []).passed


@pytest.mark.parametrize("stage", ["GD", "YJ", "BC"])
def test_run_stage_answers_every_stage_item_in_registry_order_without_any_pass_on_no_input(
    stage: str,
) -> None:
    report = run_stage(stage, _ctx())
    assert [r.item for r in report.results] == [i.id for i in items_for(stage)]
    statuses = {r.status for r in report.results}
    assert "pass" not in statuses  # nothing was given to check
    assert "fail" not in statuses


def test_other_helpers_items_are_not_run_until_their_modules_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    for name in ("integrity.checks.formats", "integrity.checks.antivirus", "integrity.checks.eep"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it now raises ImportError
    report = run_stage("BC", _ctx())
    by_id = {r.item: r for r in report.results}
    for item_id in ("BC-1-15", "BC-1-16", "BC-2-10", "BC-3-4", "BC-3-5", "BC-4-1", "BC-4-2"):
        assert by_id[item_id].status == "not_run", item_id
        assert "检测功能尚未提供" in (by_id[item_id].reason or "")


def test_gather_facts_merges_facts_and_records_broken_gatherers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = context_for(make_sample(tmp_path), tmp_path / "staging")
    assert ctx.package is not None
    gatherers = (
        f"{HERE}:gather_good",
        f"{HERE}:gather_boom",
        "integrity.checks.nowhere:gather_x",
        f"{HERE}:gather_shared",
    )
    with caplog.at_level(logging.WARNING):
        facts = gather_facts(ctx.package, Settings(data_dir=tmp_path), "YJ", gatherers=gatherers)
    assert facts["good"] == "YJ" and facts["more"] is True
    assert facts["shared"] == 1  # the first gatherer's value stays
    assert set(facts["gatherer_errors"]) == {f"{HERE}:gather_boom", "integrity.checks.nowhere:gather_x"}
    assert "OSError: clamd socket refused" in facts["gatherer_errors"][f"{HERE}:gather_boom"]
    assert "gather_boom" in caplog.text and "nowhere" in caplog.text


def test_gather_facts_with_the_default_gatherers_includes_the_environment(tmp_path: Path) -> None:
    ctx = context_for(make_sample(tmp_path), tmp_path / "staging")
    assert ctx.package is not None
    facts = gather_facts(ctx.package, Settings(data_dir=tmp_path), "GD")
    assert facts["environment"]["python"]
    assert facts["read_bytes"] == ctx.package.total_bytes
    assert isinstance(facts["gatherer_errors"], dict)


def test_gather_facts_rejects_an_unknown_stage(tmp_path: Path) -> None:
    ctx = context_for(make_sample(tmp_path), tmp_path / "staging")
    assert ctx.package is not None
    with pytest.raises(ValueError, match="stage"):
        gather_facts(ctx.package, Settings(data_dir=tmp_path), "XX", gatherers=())


def test_config_from_settings_carries_the_detection_policy(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, archive_fonds_codes=("J574",))
    config = config_from_settings(settings)
    assert config["archive_fonds_codes"] == ("J574",)
    assert config["min_read_mb_per_s"] == 20.0
    assert "PDF" in config["allowed_formats"]


def test_the_full_sample_report_names_its_case(tmp_path: Path) -> None:
    ctx = context_for(make_sample(tmp_path), tmp_path / "staging")
    report = run_stage("GD", dataclasses.replace(ctx, stage="BC"))
    assert report.stage == "GD"
    assert report.subject.startswith("（2024）")


def test_a_check_module_that_fails_while_importing_is_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    def broken_import(name: str, package: str | None = None) -> object:
        raise SyntaxError("invalid syntax (formats.py, line 3)")

    monkeypatch.setattr(importlib, "import_module", broken_import)
    result = run_item(_item("integrity.checks.formats:check_readability"), _ctx())
    assert result.status == "not_run"
    assert "SyntaxError" in (result.reason or "")
