"""The item registry equals DA/T 70-2018 表A.1 (vector written from standards-reference §1.2–1.5)."""

from __future__ import annotations

import csv
import importlib.util

import pytest

from integrity.checks.model import STAGES
from integrity.checks.registry import (
    COLUMNS,
    RegistryInvalid,
    get_item,
    items_for,
    load_check,
    load_registry,
    parse_registry,
)

from .court_samples import VECTORS

MANUAL = {"2-7", "2-8", "4-5", "4-8", "4-9"}
NOT_APPLICABLE = {"4-6"}
OTHER_HELPERS = {
    "3-3": "integrity.checks.formats:check_format_identification",
    "3-4": "integrity.checks.formats:check_readability",
    "3-5": "integrity.checks.formats:check_long_term_format",
    "3-8": "integrity.checks.formats:check_package_format_compliance",
    "4-1": "integrity.checks.antivirus:check_antivirus_present",
    "4-2": "integrity.checks.antivirus:check_virus_scan",
    "1-15": "integrity.checks.eep:check_eep_structure",
    "1-16": "integrity.checks.eep:check_eep_signatures",
    "2-10": "integrity.checks.eep:check_eep_metadata",
}
OWN_MODULES = ("integrity.checks.court", "integrity.checks.environment", "integrity.checks.manual")


def _expected() -> list[dict[str, str]]:
    with (VECTORS / "dat70_items.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_registry_holds_exactly_the_items_of_the_standard_in_order() -> None:
    got = [{k: getattr(i, k) for k in ("id", "number", "name", "property", "stage")} for i in load_registry()]
    assert got == _expected()


@pytest.mark.parametrize(("stage", "count"), [("GD", 36), ("YJ", 35), ("BC", 32)])
def test_each_stage_has_the_item_count_of_clause_5(stage: str, count: int) -> None:
    items = items_for(stage)
    assert len(items) == count
    assert {i.stage for i in items} == {stage}


def test_registry_totals_103_stage_items_over_45_global_items() -> None:
    assert len(load_registry()) == 103
    assert len({i.number for i in load_registry()}) == 45


def test_modes_are_manual_only_for_inherently_manual_items() -> None:
    for item in load_registry():
        expected = (
            "manual"
            if item.number in MANUAL
            else "not_applicable"
            if item.number in NOT_APPLICABLE
            else "automated"
        )
        assert item.mode == expected, item.id


def test_other_helpers_checks_are_registered_under_the_agreed_paths() -> None:
    for item in load_registry():
        if item.number in OTHER_HELPERS:
            assert item.check == OTHER_HELPERS[item.number], item.id


def test_every_check_of_this_part_imports() -> None:
    for item in load_registry():
        if item.check.split(":")[0] in OWN_MODULES:
            assert callable(load_check(item.check)), item.id
        else:
            assert item.number in OTHER_HELPERS, item.id


def test_get_item_finds_by_id_and_rejects_unknown_ids() -> None:
    assert get_item("YJ-1-9").name == "元数据项(全宗号、目录号、分类号)与档案馆要求的一致性检测"
    with pytest.raises(KeyError):
        get_item("GD-1-9")  # the gap is deliberate (DA/T 70 Annex A)


def test_items_for_rejects_an_unknown_stage() -> None:
    with pytest.raises(ValueError, match="stage"):
        items_for("LY")
    assert set(STAGES) == {"GD", "YJ", "BC"}


HEADER = ",".join(COLUMNS)
GOOD_ROW = "GD-1-1,1-1,固化信息有效性检测,真实性,GD,automated,integrity.checks.court:check_fixity"


def test_parse_registry_accepts_a_valid_row() -> None:
    (item,) = parse_registry(f"{HEADER}\n{GOOD_ROW}\n")
    assert item.id == "GD-1-1"


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("id,number\n" + GOOD_ROW, "header"),
        (f"{HEADER}\nYJ-1-1,1-1,固化信息有效性检测,真实性,GD,automated,a.b:c", "'id'"),
        (f"{HEADER}\nGD-1-1,1-1,固化信息有效性检测,完整性,GD,automated,a.b:c", "'property'"),
        (f"{HEADER}\nGD-1-1,1-1,固化信息有效性检测,真实性,GD,sometimes,a.b:c", "'mode'"),
        (f"{HEADER}\nGD-1-1,1-1,固化信息有效性检测,真实性,GD,automated,a.b.c", "'check'"),
        (f"{HEADER}\nLY-1-1,1-1,固化信息有效性检测,真实性,LY,automated,a.b:c", "'stage'"),
        (f"{HEADER}\nGD-5-1,5-1,固化信息有效性检测,真实性,GD,automated,a.b:c", "'number'"),
        (f"{HEADER}\nGD-1-1,1-1,固化信息有效性,真实性,GD,automated,a.b:c", "'name'"),
        (f"{HEADER}\n{GOOD_ROW}\n{GOOD_ROW}", "duplicate"),
        (f"{HEADER}\nGD-1-1,1-1", "columns"),
        (f"{HEADER}\n", "none"),
    ],
    ids=[
        "header",
        "id",
        "property",
        "mode",
        "check",
        "stage",
        "number",
        "name",
        "duplicate",
        "columns",
        "empty",
    ],
)
def test_parse_registry_rejects_a_malformed_file_naming_the_column(text: str, column: str) -> None:
    with pytest.raises(RegistryInvalid, match=column):
        parse_registry(text)


def test_load_check_reports_a_missing_module_as_module_not_found() -> None:
    assert importlib.util.find_spec("integrity.checks.not_written_yet") is None
    with pytest.raises(ModuleNotFoundError):
        load_check("integrity.checks.not_written_yet:check_x")


def test_load_check_reports_a_missing_function_as_import_error() -> None:
    with pytest.raises(ImportError, match="check_nothing"):
        load_check("integrity.checks.court:check_nothing")


def test_load_check_rejects_a_path_without_function() -> None:
    with pytest.raises(ValueError, match="module:function"):
        load_check("integrity.checks.court")


def test_load_check_rejects_a_non_callable() -> None:
    with pytest.raises(TypeError, match="callable"):
        load_check("integrity.checks.court:NO_VALIDATION")
