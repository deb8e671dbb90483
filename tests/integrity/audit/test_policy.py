"""Audit policy and scheduler: worked examples from tests/vectors/audit and Hypothesis properties."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from integrity.audit.policy import (
    AuditPolicy,
    Batch,
    Check,
    ObjectState,
    Reason,
    due,
    key_phase,
    quarter_id,
    quarter_sample,
    quarter_start,
    spread,
    throttle_delay,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "audit" / "policy_cases.json").read_text("utf-8")
)
ERRORS: dict[str, type[Exception]] = {"ValidationError": ValidationError, "ValueError": ValueError}
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def t(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def vector_object(key: str) -> ObjectState:
    spec = VECTORS["objects"][key]
    return ObjectState(
        key=key,
        location=spec["location"],
        size=spec["size"],
        archived_at=dt.datetime.fromisoformat(spec["archived_at"]),
        last_fixity=t(spec.get("last_fixity")),
        last_full=t(spec.get("last_full")),
        changed_at=t(spec.get("changed_at")),
    )


def blank(key: str, size: int = 1, location: str = "s3") -> ObjectState:
    return ObjectState(key=key, location=location, size=size, archived_at=EPOCH - 1000 * DAY)


# ---------------------------------------------------------------- worked examples (data)
@pytest.mark.parametrize("case", VECTORS["due"], ids=lambda c: c["name"])
def test_due_matches_worked_example(case: dict[str, Any]) -> None:
    plan = due(
        [vector_object(k) for k in case["population"]],
        AuditPolicy(**case["policy"]),
        dt.datetime.fromisoformat(case["now"]),
        horizon=t(case.get("horizon")),
    )
    found = [
        {
            "key": i.obj.key,
            "check": i.check.value,
            "reasons": [r.value for r in i.reasons],
            "deadline": None if i.deadline is None else i.deadline.isoformat(),
        }
        for i in plan.items
    ]
    assert plan.quarter == case["expected_quarter"]
    assert sorted(plan.sample) == case["expected_sample"]
    assert found == case["expected"]


@pytest.mark.parametrize("case", VECTORS["spread"], ids=lambda c: c["name"])
def test_spread_matches_worked_example(case: dict[str, Any]) -> None:
    now = dt.datetime.fromisoformat(case["now"])
    period_end = dt.datetime.fromisoformat(case["period_end"])
    policy = AuditPolicy(**case["policy"])
    objects = [ObjectState(archived_at=EPOCH, **o) for o in case["objects"]]
    window = int((period_end - now).total_seconds())
    assert {o.key: key_phase(o.key, window) // policy.batch_seconds for o in objects} == case[
        "expected_phase_slots"
    ]
    batches = spread(due(objects, policy, now), policy, now, period_end)
    assert batches == [
        Batch(dt.datetime.fromisoformat(b["start_at"]), b["seconds"], tuple(b["keys"]), b["bytes"])
        for b in case["expected"]
    ]


@pytest.mark.parametrize("case", VECTORS["throttle"], ids=lambda c: c["name"])
def test_throttle_delay_matches_worked_example(case: dict[str, Any]) -> None:
    assert throttle_delay(case["bytes_done"], case["elapsed"], case["budget"]) == pytest.approx(
        case["expected"]
    )


def _invoke(call: str, args: dict[str, Any]) -> object:
    if call == "policy":
        return AuditPolicy(**args)
    if call == "object":
        return ObjectState(key="x", location="s3", archived_at=EPOCH, **args)
    if call == "due":
        population = [vector_object(k) for k in args.get("population", ["a-never"])]
        return due(
            population, AuditPolicy(), dt.datetime.fromisoformat(args["now"]), horizon=t(args.get("horizon"))
        )
    if call == "spread":
        now = dt.datetime.fromisoformat(args["now"])
        return spread(
            due([], AuditPolicy(), now), AuditPolicy(), now, dt.datetime.fromisoformat(args["period_end"])
        )
    if call == "throttle":
        return throttle_delay(args["bytes_done"], args["elapsed"], args["budget"])
    raise AssertionError(call)


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=lambda c: c["name"])
def test_invalid_input_raises_named_error(case: dict[str, Any]) -> None:
    with pytest.raises(ERRORS[case["expected_error"]]):
        _invoke(case["call"], case["args"])


# ---------------------------------------------------------------- examples
def test_default_policy_follows_dat70_and_dat92() -> None:
    policy = AuditPolicy()
    assert (policy.fixity_every_days, policy.full_every_days) == (365, 730)
    assert policy.sample_fraction == 0.05
    assert policy.after_change_full is True
    assert policy.io_budget_bytes_per_s is None and policy.max_objects_per_location is None


def test_policy_is_frozen() -> None:
    with pytest.raises(ValidationError):
        AuditPolicy().fixity_every_days = 1  # type: ignore[misc]


def test_quarter_boundaries_are_utc() -> None:
    late_march_in_beijing = dt.datetime(2024, 4, 1, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert quarter_id(late_march_in_beijing) == "2024Q1"
    assert quarter_start(late_march_in_beijing) == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert quarter_id(dt.datetime(2024, 12, 31, 23, 59, tzinfo=dt.UTC)) == "2024Q4"


def test_empty_catalog_has_nothing_due_and_no_batches() -> None:
    plan = due([], AuditPolicy(), EPOCH)
    assert plan.items == () and plan.sample == frozenset()
    assert spread(plan, AuditPolicy(), EPOCH, EPOCH + DAY) == []


def test_overdue_backlog_is_spread_not_burst() -> None:
    """Objects whose check lapsed long ago keep their phase instead of all landing in the first slot."""
    objects = [
        ObjectState(
            f"k{i}", "s3", 1, EPOCH - 900 * DAY, last_fixity=EPOCH - 400 * DAY, last_full=EPOCH - 400 * DAY
        )
        for i in range(2000)
    ]
    policy = AuditPolicy(batch_seconds=86400)
    batches = spread(due(objects, policy, EPOCH), policy, EPOCH, EPOCH + 10 * DAY)
    assert len(batches) == 10
    assert max(len(b.keys) for b in batches) < 2000 / 10 * 1.4


def test_deadline_inside_the_window_is_never_missed() -> None:
    last = EPOCH - 365 * DAY + 2 * DAY  # fixity lapses two days into the window
    obj = ObjectState("late-phase", "s3", 1, EPOCH - 900 * DAY, last_fixity=last, last_full=last)
    policy = AuditPolicy(batch_seconds=3600)
    plan = due([obj], policy, EPOCH, horizon=EPOCH + 30 * DAY)
    (batch,) = spread(plan, policy, EPOCH, EPOCH + 30 * DAY)
    assert batch.start_at <= last + 365 * DAY


# ---------------------------------------------------------------- properties
keys_st = st.sets(st.text(alphabet="abcdef0123456789/", min_size=1, max_size=12), min_size=1, max_size=300)


@given(
    keys=keys_st,
    fraction=st.floats(0.01, 1.0),
    quarter=st.integers(0, 3),
    offsets=st.tuples(st.integers(0, 89 * 86400), st.integers(0, 89 * 86400)),
    seed=st.integers(0, 2**32),
)
def test_quarterly_sample_is_at_least_the_fraction_and_identical_within_the_quarter(
    keys: set[str], fraction: float, quarter: int, offsets: tuple[int, int], seed: int
) -> None:
    start = dt.datetime(2025, 3 * quarter + 1, 1, tzinfo=dt.UTC)
    first, second = (start + dt.timedelta(seconds=o) for o in offsets)
    shuffled = list(keys)
    random.Random(seed).shuffle(shuffled)
    policy = AuditPolicy(sample_fraction=fraction)
    a = due([blank(k) for k in keys], policy, first)
    b = due([blank(k) for k in shuffled], policy, second)
    assert a.quarter == b.quarter
    assert a.sample == b.sample
    assert len(a.sample) >= fraction * len(keys)
    assert len(a.sample) == math.ceil(fraction * len(keys))
    assert a.sample <= keys


def test_quarterly_sample_changes_between_quarters() -> None:
    keys = [f"blobs/{i:05d}" for i in range(2000)]
    samples = {q: quarter_sample(keys, 0.05, q) for q in ("2024Q1", "2024Q2", "2024Q3", "2024Q4")}
    assert all(len(s) == 100 for s in samples.values())
    assert len(set(samples.values())) == 4
    union = frozenset().union(*samples.values())
    assert len(union) > 300  # different objects each quarter, not the same 5 % forever


object_st = st.builds(
    lambda key, size, fixity_age, full_age, change_age: ObjectState(
        key=key,
        location="s3",
        size=size,
        archived_at=EPOCH - 3000 * DAY,
        last_fixity=None if fixity_age is None else EPOCH - fixity_age * DAY,
        last_full=None if full_age is None else EPOCH - full_age * DAY,
        changed_at=None if change_age is None else EPOCH - change_age * DAY,
    ),
    key=st.text(alphabet="abcdef0123456789", min_size=1, max_size=10),
    size=st.integers(0, 10**6),
    fixity_age=st.none() | st.integers(0, 1500),
    full_age=st.none() | st.integers(0, 1500),
    change_age=st.none() | st.integers(0, 1500),
)


@given(objects=st.lists(object_st, max_size=60, unique_by=lambda o: o.key))
def test_changed_objects_always_get_a_full_check(objects: list[ObjectState]) -> None:
    plan = due(objects, AuditPolicy(), EPOCH)
    by_key = {i.obj.key: i for i in plan.items}
    for obj in objects:
        if obj.changed_at is not None and (obj.last_full is None or obj.changed_at > obj.last_full):
            assert by_key[obj.key].check is Check.FULL
            assert Reason.CHANGED in by_key[obj.key].reasons


@given(objects=st.lists(object_st, max_size=60, unique_by=lambda o: o.key))
def test_due_flags_exactly_the_lapsed_checks(objects: list[ObjectState]) -> None:
    policy = AuditPolicy()
    plan = due(objects, policy, EPOCH)
    for obj in objects:
        checked = [x for x in (obj.last_fixity, obj.last_full) if x is not None]
        lapsed = not checked or EPOCH - max(checked) >= 365 * DAY
        full_lapsed = obj.last_full is None or EPOCH - obj.last_full >= 730 * DAY
        if lapsed:
            assert obj.key in plan.keys
        if full_lapsed:
            assert obj.key in plan.full
        if obj.key in plan.fixity:
            assert lapsed and not full_lapsed


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.text(alphabet="abcxyz", max_size=6), slots=st.integers(20, 100))
def test_spreading_is_within_35_percent_of_flat_for_large_n(prefix: str, slots: int) -> None:
    n = 20_000
    objects = [blank(f"{prefix}blobs/sha256/{i:08x}") for i in range(n)]
    policy = AuditPolicy(batch_seconds=3600)
    batches = spread(due(objects, policy, EPOCH), policy, EPOCH, EPOCH + slots * dt.timedelta(hours=1))
    counts = {b.start_at: len(b.keys) for b in batches}
    assert len(counts) == slots
    flat = n / slots
    assert all(abs(c - flat) <= 0.35 * flat for c in counts.values()), (
        min(counts.values()),
        max(counts.values()),
    )


@given(
    sizes=st.lists(st.tuples(st.integers(0, 50_000), st.sampled_from(["s3", "fs", "nas"])), max_size=80),
    budget=st.integers(1, 20),
    slot=st.integers(60, 3600),
    per_location=st.none() | st.integers(1, 5),
    window_slots=st.integers(1, 30),
)
def test_no_batch_exceeds_the_io_budget_or_location_limit(
    sizes: list[tuple[int, str]], budget: int, slot: int, per_location: int | None, window_slots: int
) -> None:
    objects = [blank(f"o{i}", size, loc) for i, (size, loc) in enumerate(sizes)]
    policy = AuditPolicy(
        io_budget_bytes_per_s=budget, batch_seconds=slot, max_objects_per_location=per_location
    )
    batches = spread(
        due(objects, policy, EPOCH), policy, EPOCH, EPOCH + window_slots * slot * dt.timedelta(seconds=1)
    )
    scheduled = [k for b in batches for k in b.keys]
    assert sorted(scheduled) == sorted(o.key for o in objects)  # each exactly once
    location = {o.key: o.location for o in objects}
    for b in batches:
        assert b.keys
        assert b.bytes <= budget * b.seconds
        if per_location is not None:
            assert max(Counter(location[k] for k in b.keys).values()) <= per_location
    for before, after in itertools.pairwise(batches):
        assert before.start_at + dt.timedelta(seconds=before.seconds) <= after.start_at  # no overlap


@settings(max_examples=30, deadline=None)
@given(
    initial=st.lists(
        st.tuples(st.none() | st.integers(0, 120), st.none() | st.integers(0, 200)), min_size=1, max_size=40
    ),
    step_days=st.integers(1, 30),
    slot_hours=st.sampled_from([1, 6, 24]),
    fraction=st.sampled_from([0.05, 0.5]),
)
def test_every_object_gets_fixity_at_least_once_per_period(
    initial: list[tuple[int | None, int | None]], step_days: int, slot_hours: int, fraction: float
) -> None:
    """Simulate a planner running every ``step_days`` over ``[now, now + step)``; run every batch on time."""
    policy = AuditPolicy(
        fixity_every_days=30, full_every_days=90, sample_fraction=fraction, batch_seconds=slot_hours * 3600
    )
    period = policy.fixity_every_days * DAY
    step = step_days * DAY
    state = {
        f"k{i}": ObjectState(
            f"k{i}",
            "s3",
            1,
            EPOCH - 400 * DAY,
            last_fixity=None if fx is None else EPOCH - fx * DAY,
            last_full=None if fu is None else EPOCH - fu * DAY,
        )
        for i, (fx, fu) in enumerate(initial)
    }
    first_deadline = {
        k: max(EPOCH + step, max((x for x in (o.last_fixity, o.last_full) if x), default=EPOCH) + period)
        for k, o in state.items()
    }
    checks: dict[str, list[dt.datetime]] = {k: [] for k in state}
    now = EPOCH
    while now < EPOCH + 4 * period:
        plan = due(state.values(), policy, now, horizon=now + step)
        kinds = {i.obj.key: i.check for i in plan.items}
        for batch in spread(plan, policy, now, now + step):
            assert batch.start_at >= now
            for key in batch.keys:
                old = state[key]
                full = kinds[key] is Check.FULL
                state[key] = ObjectState(
                    key,
                    old.location,
                    old.size,
                    old.archived_at,
                    last_fixity=batch.start_at,
                    last_full=batch.start_at if full else old.last_full,
                )
                checks[key].append(batch.start_at)
        now += step
    for key, times in checks.items():
        assert times, key
        assert times[0] <= first_deadline[key]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap <= period for gap in gaps), (key, max(gaps))
