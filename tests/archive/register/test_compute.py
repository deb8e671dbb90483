"""The register rules from plain records: test vectors, edge cases and Hypothesis invariants."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.register import model
from archive.register.compute import compute_register, month_range
from archive.register.model import (
    COUNTS,
    TOTAL_LABEL,
    CaseRecord,
    DossierRecord,
    Month,
    RegisterInputs,
    RegisterRow,
    RegisterTable,
    SubmissionRecord,
    VerificationRecord,
)
from standards.errors import BadInput

from . import vectors

YEAR = dt.timedelta(days=365)
NOW = dt.datetime(2025, 3, 10, 4, 0, tzinfo=dt.UTC)


def _compute(vector: dict[str, object]) -> RegisterTable:
    return compute_register(
        vectors.inputs(vector),  # type: ignore[arg-type]
        Month.parse(str(vector["from"])),
        Month.parse(str(vector["to"])),
        deadline_days=int(str(vector["deadline_days"])),
        audit_period=dt.timedelta(days=int(str(vector["audit_period_days"]))),
        now=vectors.instant(str(vector["now"])),
    )


@pytest.mark.parametrize("name", vectors.names("valid"))
def test_valid_vector_gives_the_expected_rows_in_order(name: str) -> None:
    vector = vectors.load("valid", name)

    table = _compute(vector)

    expected = vector["expected"]
    assert list(table.months) == list(expected)
    for month, by_department in expected.items():
        found = {r.department: r for r in (*table.rows_of(month), table.total_of(month))}
        assert list(found) == list(by_department), month  # departments sorted, unknown last, total at the end
        for department, counts in by_department.items():
            row = found[department]
            assert {name: getattr(row, name) for name in COUNTS} == counts, (month, department)


@pytest.mark.parametrize("name", vectors.names("invalid"))
def test_invalid_vector_raises_its_expected_error(name: str) -> None:
    vector = vectors.load("invalid", name)
    error = getattr(model, vector["expected_error"])

    with pytest.raises(error) as caught:
        compute_register(
            RegisterInputs(),
            Month.parse(vector["from"]),
            Month.parse(vector["to"]),
            deadline_days=90,
            audit_period=YEAR,
            now=vectors.instant(vector["now"]),
        )

    assert isinstance(caught.value, BadInput)
    assert caught.value.code.startswith("register_")


def test_rates_follow_from_the_counts_and_are_none_without_a_denominator() -> None:
    table = _compute(vectors.load("valid", "month-boundaries-in-china-standard-time"))
    january = table.total_of("2025-01")
    february = {r.department: r for r in table.rows_of("2025-02")}

    assert january.detection_pass_rate == 0.5
    assert january.audit_coverage == pytest.approx(2 / 3)
    assert february["民二庭"].detection_pass_rate is None
    assert february["民二庭"].audit_coverage is None
    assert february["（未知部门）"].detection_pass_rate == 0.0
    assert table.total_of("2025-02").audit_coverage == pytest.approx(4 / 7)


def test_as_dict_carries_counts_rates_and_parameters() -> None:
    table = _compute(vectors.load("valid", "month-boundaries-in-china-standard-time"))

    shape = table.as_dict()

    assert (shape["from"], shape["to"], shape["deadline_days"], shape["audit_period_days"]) == (
        "2025-01",
        "2025-02",
        90,
        365,
    )
    january = shape["months"][0]
    assert january["month"] == "2025-01"
    assert january["rows"][0]["department"] == "民一庭"
    assert january["total"]["department"] == TOTAL_LABEL
    assert january["total"]["detection_pass_rate"] == 0.5


def test_archived_on_the_deadline_day_in_beijing_is_on_time() -> None:
    closing = dt.date(2024, 10, 31)  # deadline 2025-01-29
    on_deadline = dt.datetime(2025, 1, 29, 15, 59, tzinfo=dt.UTC)  # 23:59 on 29 Jan in Beijing
    a_minute_later = on_deadline + dt.timedelta(minutes=1)  # 00:00 on 30 Jan in Beijing
    inputs = RegisterInputs(
        dossiers=(
            DossierRecord("ED-1", "（2024）京0105民初1号", "民一庭", closing, on_deadline),
            DossierRecord("ED-2", "（2024）京0105民初2号", "民一庭", closing, a_minute_later),
        )
    )

    table = compute_register(
        inputs, Month(2025, 1), Month(2025, 1), deadline_days=90, audit_period=YEAR, now=NOW
    )

    row = table.rows_of("2025-01")[0]
    assert (row.archived, row.archived_on_time, row.archived_late) == (2, 1, 1)


def test_deadline_days_setting_moves_on_time_and_overdue() -> None:
    inputs = RegisterInputs(
        cases=(CaseRecord("（2024）京0105民初1号", "民一庭", dt.date(2024, 12, 1)),),
    )

    strict = compute_register(
        inputs, Month(2025, 1), Month(2025, 1), deadline_days=30, audit_period=YEAR, now=NOW
    )
    lenient = compute_register(
        inputs, Month(2025, 1), Month(2025, 1), deadline_days=90, audit_period=YEAR, now=NOW
    )

    assert strict.total_of("2025-01").overdue_open == 1
    assert lenient.total_of("2025-01").overdue_open == 0


def test_caller_bugs_raise_value_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_register(
            RegisterInputs(),
            Month(2025, 1),
            Month(2025, 1),
            deadline_days=90,
            audit_period=YEAR,
            now=dt.datetime(2025, 3, 1),
        )
    with pytest.raises(ValueError, match="audit_period"):
        compute_register(
            RegisterInputs(),
            Month(2025, 1),
            Month(2025, 1),
            deadline_days=90,
            audit_period=dt.timedelta(0),
            now=NOW,
        )
    with pytest.raises(ValueError, match="archived_on_time"):
        RegisterRow("2025-01", "民一庭", archived=2, archived_on_time=1)
    with pytest.raises(ValueError, match="objects_verified"):
        RegisterRow("2025-01", "民一庭", objects_stored=1, objects_verified=2)


def test_month_parsing_and_arithmetic() -> None:
    assert Month.parse(" 2024-12 ").next() == Month(2025, 1)
    assert Month(2024, 2).last_day == dt.date(2024, 2, 29)
    assert Month(2025, 1).start == dt.datetime(2024, 12, 31, 16, 0, tzinfo=dt.UTC)
    assert str(Month(2025, 3)) == "2025-03"
    assert [str(m) for m in month_range(Month(2024, 12), Month(2025, 1), today=dt.date(2025, 1, 1))] == [
        "2024-12",
        "2025-01",
    ]


# ---------------------------------------------------------------- Hypothesis invariants
DEPARTMENTS = ("民一庭", "民二庭", "刑事审判庭", "执行局")
FIRST, LAST = Month(2024, 10), Month(2025, 3)
START = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
HORIZON = dt.datetime(2025, 3, 31, 15, 0, tzinfo=dt.UTC)  # before 1 April in Beijing
INSTANTS = st.datetimes(
    min_value=START.replace(tzinfo=None), max_value=HORIZON.replace(tzinfo=None), timezones=st.just(dt.UTC)
)
KEYS = st.sampled_from([f"blobs/{i}" for i in range(8)])


@st.composite
def register_inputs(draw: st.DrawFn) -> RegisterInputs:
    count = draw(st.integers(0, 12))
    cases, dossiers = [], []
    for number in range(count):
        case_number = f"（2024）京0105民初{number + 1}号"
        closing = draw(st.dates(dt.date(2024, 6, 1), dt.date(2025, 3, 20)))
        department = draw(st.sampled_from(DEPARTMENTS))
        if draw(st.booleans()):
            cases.append(CaseRecord(case_number, department, closing))
        if draw(st.booleans()):
            archived_at = draw(INSTANTS.filter(lambda t, c=closing: t.date() >= c))
            keys = (f"aips/ED-{number}/1/manifest.json", *draw(st.lists(KEYS, max_size=3)))
            dossiers.append(
                DossierRecord(
                    f"ED-{number}",
                    case_number,
                    draw(st.sampled_from(DEPARTMENTS)),
                    closing,
                    archived_at,
                    keys,
                )
            )
    submissions = draw(
        st.lists(
            st.builds(
                SubmissionRecord,
                INSTANTS,
                st.one_of(st.none(), st.sampled_from([f"（2024）京0105民初{n}号" for n in range(1, 14)])),
                st.sampled_from(["archived", "rejected", "already_archived"]),
            ),
            max_size=10,
        )
    )
    verifications = draw(
        st.lists(
            st.builds(
                VerificationRecord,
                st.one_of(KEYS, st.sampled_from([f"aips/ED-{n}/1/manifest.json" for n in range(12)])),
                INSTANTS,
            ),
            max_size=15,
        )
    )
    return RegisterInputs(tuple(cases), tuple(dossiers), tuple(submissions), tuple(verifications))


def _table(inputs: RegisterInputs, deadline_days: int = 90) -> RegisterTable:
    return compute_register(inputs, FIRST, LAST, deadline_days=deadline_days, audit_period=YEAR, now=HORIZON)


@settings(max_examples=150, deadline=None)
@given(register_inputs(), st.integers(0, 120))
def test_totals_are_the_sum_of_rows_and_archived_splits_into_on_time_and_late(
    inputs: RegisterInputs, deadline_days: int
) -> None:
    table = _table(inputs, deadline_days)

    assert len(table.totals) == len(table.months) == 6
    for month in table.months:
        rows, total = table.rows_of(month), table.total_of(month)
        for name in COUNTS:
            assert getattr(total, name) == sum(getattr(r, name) for r in rows), (month, name)
        for row in (*rows, total):
            assert row.archived_on_time + row.archived_late == row.archived
            for rate in (row.detection_pass_rate, row.audit_coverage):
                assert rate is None or 0.0 <= rate <= 1.0
            assert (row.detection_pass_rate is None) == (
                row.submissions_passed + row.submissions_rejected == 0
            )
            assert (row.audit_coverage is None) == (row.objects_stored == 0)


@settings(max_examples=150, deadline=None)
@given(register_inputs())
def test_every_closing_and_archiving_in_the_range_is_counted_exactly_once(inputs: RegisterInputs) -> None:
    table = _table(inputs)
    china = dt.timezone(dt.timedelta(hours=8))

    closed_in_range = sum(1 for c in inputs.cases if FIRST.first_day <= c.closing_date <= LAST.last_day)
    archived_in_range = sum(
        1
        for d in inputs.dossiers
        if FIRST.first_day <= d.archived_at.astimezone(china).date() <= LAST.last_day
    )
    assert sum(t.closed for t in table.totals) == closed_in_range
    assert sum(t.archived for t in table.totals) == archived_in_range


@settings(max_examples=100, deadline=None)
@given(register_inputs(), st.randoms(use_true_random=False))
def test_the_order_of_the_records_does_not_matter(inputs: RegisterInputs, shuffler: random.Random) -> None:
    def shuffled(items: tuple[object, ...]) -> tuple[object, ...]:
        out = list(items)
        shuffler.shuffle(out)
        return tuple(out)

    mixed = dataclasses.replace(
        inputs,
        cases=shuffled(inputs.cases),  # type: ignore[arg-type]
        dossiers=shuffled(inputs.dossiers),  # type: ignore[arg-type]
        submissions=shuffled(inputs.submissions),  # type: ignore[arg-type]
        verifications=shuffled(inputs.verifications),  # type: ignore[arg-type]
    )

    assert _table(mixed) == _table(inputs)


def test_docstring_examples_run() -> None:
    import doctest

    from archive.register import compute

    assert doctest.testmod(compute).failed == 0
    assert doctest.testmod(model).failed == 0
