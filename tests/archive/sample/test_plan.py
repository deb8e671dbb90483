"""The case plan: stable per seed, realistic order, consistent with the code tables and parsers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from archive.sample.plan import plan_case
from standards.archival_code import parse_archival_code
from standards.case_number import parse_case_number
from standards.codes import case_types, retention_periods
from standards.court_package import MAIN_VOLUME, ORIGIN_DIGITISED, SUB_VOLUME

EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "expected_plans.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("seed", sorted(int(s) for s in EXPECTED))
def test_plan_case_is_stable_for_recorded_seeds(seed: int) -> None:
    plan = plan_case(seed, 12)
    expected = EXPECTED[str(seed)]
    assert plan.case_number == expected["case_number"]
    assert plan.case_type.case_type == expected["case_type"]
    assert plan.court.name == expected["court"]
    assert plan.retention == expected["retention"]
    assert [d.title for d in plan.documents] == expected["titles"]


def test_plan_case_covers_every_case_type_over_few_seeds() -> None:
    assert {plan_case(s, 12).case_type.type_code for s in range(20)} == {"民初", "民终", "刑初", "行初", "执"}


@pytest.mark.parametrize("seed", range(25))
def test_plan_case_number_and_archival_codes_parse(seed: int) -> None:
    plan = plan_case(seed, 30)
    parsed = parse_case_number(plan.case_number, today=dt.date(2025, 3, 1))
    assert parsed.year == 2024
    assert case_types()[plan.case_type.type_code].category == plan.case_type.case_type
    for doc in plan.documents:
        code = parse_archival_code(plan.archival_code(doc))
        assert (code.fonds, code.year, code.item) == (plan.fonds_code, 2024, doc.sequence)
        assert code.retention == retention_periods()[doc.retention].archival_code


@pytest.mark.parametrize("count", [1, 5, 12, 40, 1000])
def test_plan_case_has_exactly_the_requested_documents_in_volume_order(count: int) -> None:
    plan = plan_case(4, count)
    assert [d.sequence for d in plan.documents] == list(range(1, count + 1))
    volumes = [d.volume for d in plan.documents]
    assert volumes == sorted(volumes, key=[MAIN_VOLUME, SUB_VOLUME].index)
    assert len({d.file_path for d in plan.documents}) == count


def test_plan_case_dates_lie_between_filing_and_closing() -> None:
    for seed in range(10):
        plan = plan_case(seed, 60)
        assert all(plan.filed <= d.date <= plan.closing_date for d in plan.documents)
        assert plan.closing_date.year == 2024


def test_plan_case_mixes_electronic_and_digitised_documents_when_large() -> None:
    plan = plan_case(2, 300)
    scanned = sum(d.origin == ORIGIN_DIGITISED for d in plan.documents) / len(plan.documents)
    assert 0.2 < scanned < 0.5
    assert all(d.paper_location for d in plan.documents if d.origin == ORIGIN_DIGITISED)


def test_plan_case_retention_is_the_longest_of_its_documents() -> None:
    rank = {k: v.rank for k, v in retention_periods().items()}
    for seed in range(10):
        for count in (1, 3, 12):
            plan = plan_case(seed, count)
            assert rank[plan.retention] == max(rank[d.retention] for d in plan.documents)


def test_plan_case_rejects_zero_documents() -> None:
    with pytest.raises(ValueError, match="documents"):
        plan_case(0, 0)
