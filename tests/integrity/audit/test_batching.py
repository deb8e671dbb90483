"""Planning audit batches: every object in exactly one batch, dossiers never split (Hypothesis)."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import integrity.audit.batching as batching_module
from integrity.audit.batching import DOSSIER_OBJECTS, plan_batches

keys = st.sampled_from([f"blobs/{i:02d}" for i in range(30)])
dossier_lists = st.lists(
    st.tuples(st.from_regex(r"ED-[0-9]{3}", fullmatch=True), st.lists(keys, max_size=8)),
    max_size=12,
    unique_by=lambda d: d[0],
)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(batching_module).failed == 0


@given(dossier_lists, st.lists(keys, max_size=10), st.integers(min_value=1, max_value=20))
def test_every_dossier_and_blob_is_in_exactly_one_batch(
    dossiers: list[tuple[str, list[str]]], loose: list[str], per_batch: int
) -> None:
    batches = plan_batches(dossiers, loose, objects_per_batch=per_batch)
    planned_ids = [a for b in batches for a in b.archive_ids]
    planned_keys = [k for b in batches for k in b.blob_keys]
    assert planned_ids == [a for a, _ in dossiers]  # each once, in order
    assert sorted(planned_keys) == sorted({k for _, ks in dossiers for k in ks} | set(loose))
    assert len(planned_keys) == len(set(planned_keys))
    assert [b.number for b in batches] == list(range(1, len(batches) + 1))
    assert all(b.objects > 0 for b in batches)


@given(dossier_lists, st.integers(min_value=1, max_value=20))
def test_a_batch_overflows_only_for_one_dossier_unit(
    dossiers: list[tuple[str, list[str]]], per_batch: int
) -> None:
    for batch in plan_batches(dossiers, objects_per_batch=per_batch):
        if batch.objects > per_batch:
            assert len(batch.archive_ids) == 1 and not batch.blob_keys  # 3 objects > a tiny limit


@given(dossier_lists, st.integers(min_value=1, max_value=10**6))
def test_bytes_per_batch_is_kept_unless_one_blob_is_larger(
    dossiers: list[tuple[str, list[str]]], limit: int
) -> None:
    sizes = {k: (int(k[-2:]) + 1) * 40_000 for _, ks in dossiers for k in ks}
    for batch in plan_batches(dossiers, sizes=sizes, bytes_per_batch=limit, objects_per_batch=10**6):
        total = sum(sizes[k] for k in batch.blob_keys)
        assert total <= limit or len(batch.blob_keys) == 1


def test_bc_dossiers_are_named_in_their_batch() -> None:
    batches = plan_batches([("A", ["x"]), ("B", ["y"])], bc={"B"}, objects_per_batch=DOSSIER_OBJECTS + 1)
    assert [(b.archive_ids, b.bc_ids) for b in batches] == [(("A",), ()), (("B",), ("B",))]
    assert [b.blob_keys for b in batches] == [("x",), ("y",)]


def test_empty_catalog_gives_no_batch() -> None:
    assert plan_batches([]) == []


@pytest.mark.parametrize("bad", [0, -1])
def test_objects_per_batch_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError, match="objects_per_batch"):
        plan_batches([("A", [])], objects_per_batch=bad)


def test_an_archive_id_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        plan_batches([("A", []), ("A", [])])
