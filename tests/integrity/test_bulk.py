"""integrity.ledger.bulk.append_many writes exactly what repeated LedgerStore.append writes."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.catalog.models import LedgerHead, LedgerLeaf, LedgerNode
from integrity.canonical import canonical_json
from integrity.events import event
from integrity.ledger import LedgerHeadMismatch, LedgerStore
from integrity.ledger import bulk as bulk_module
from integrity.ledger.bulk import append_many, leaf_kind
from integrity.merkle.hashes import SM3
from tests.integrity.reference_tree import mth

NOW = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)


def ev(i: int) -> dict[str, object]:
    return event("dossier.accessed", archive_id=f"A{i}", actor="archivist", seq=i)


def rows(session: Session) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], tuple[object, ...]]:
    leaves = [
        tuple(r)
        for r in session.execute(
            select(
                LedgerLeaf.leaf_index,
                LedgerLeaf.leaf_hash,
                LedgerLeaf.data,
                LedgerLeaf.kind,
                LedgerLeaf.created_at,
            ).order_by(LedgerLeaf.leaf_index)
        )
    ]
    nodes = [
        tuple(r)
        for r in session.execute(
            select(LedgerNode.level, LedgerNode.index, LedgerNode.hash).order_by(
                LedgerNode.level, LedgerNode.index
            )
        )
    ]
    head = session.execute(select(LedgerHead.id, LedgerHead.size, LedgerHead.root_hash)).one()
    return leaves, nodes, tuple(head)


@pytest.mark.parametrize(("before", "count"), [(0, 1), (0, 64), (0, 100), (5, 1), (7, 58), (64, 37)])
def test_append_many_writes_the_same_rows_as_repeated_append(ledger_sessions, before, count):
    store = LedgerStore()
    with ledger_sessions() as one:
        for i in range(before + count):
            store.append(one, ev(i), NOW)
        expected = rows(one)
        one.rollback()
    with ledger_sessions() as other:
        for i in range(before):
            store.append(other, ev(i), NOW)
        head = append_many(other, [canonical_json(ev(i)) for i in range(before, before + count)], NOW)
        assert rows(other) == expected
        assert (head.size, head.root) == (before + count, expected[2][2])
        assert head.root == mth([canonical_json(ev(i)) for i in range(before + count)])


def test_append_many_across_chunks_matches_reference_root(ledger_session, monkeypatch):
    monkeypatch.setattr(bulk_module, "CHUNK", 7)
    datas = [canonical_json(ev(i)) for i in range(50)]
    head = append_many(ledger_session, datas[:3], NOW)
    head = append_many(ledger_session, datas[3:], NOW)
    assert head.root == mth(datas)
    store = LedgerStore()
    for k in (1, 3, 7, 8, 31, 50):
        assert store.root_at(ledger_session, k) == mth(datas[:k])
    # the log continues with the one-at-a-time path afterwards
    after = store.append(ledger_session, ev(50), NOW)
    assert after.root == mth([*datas, canonical_json(ev(50))])


def test_append_many_with_sm3_hasher_matches_sm3_reference(ledger_session):
    datas = [canonical_json(ev(i)) for i in range(13)]
    head = append_many(ledger_session, datas, NOW, hasher=SM3)
    assert head.root == mth(datas, SM3)


def test_append_many_of_nothing_returns_current_head(ledger_session):
    LedgerStore().append(ledger_session, ev(0), NOW)
    head = append_many(ledger_session, [], NOW)
    assert (head.size, head.root) == (1, mth([canonical_json(ev(0))]))


@pytest.mark.parametrize(
    "bad",
    [
        b"not json",
        b'{"type":"no.such.event","v":1}',
        b'{"v":1, "type":"dossier.accessed"}',  # valid JSON, not canonical (space, key order)
        b"[1,2]",
    ],
)
def test_append_many_rejects_non_canonical_or_unknown_leaves_and_writes_nothing(ledger_session, bad):
    good = canonical_json(ev(0))
    with pytest.raises(ValueError, match="leaf 1"):
        append_many(ledger_session, [good, bad], NOW)
    assert ledger_session.scalars(select(LedgerLeaf)).all() == []


def test_append_many_refuses_when_head_root_does_not_match_nodes(ledger_session):
    store = LedgerStore()
    for i in range(3):
        store.append(ledger_session, ev(i), NOW)
    ledger_session.execute(update(LedgerHead).values(root_hash=bytes(32)))
    with pytest.raises(LedgerHeadMismatch):
        append_many(ledger_session, [canonical_json(ev(3))], NOW)


# ---------------------------------------------------------------- the fast canonical check
_keys = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=4)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**54), max_value=2**54)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)


def _full_verdict(data: bytes) -> bool:
    try:
        value = json.loads(data)
        return canonical_json(value) == data
    except (TypeError, ValueError):
        return False


@settings(max_examples=400, deadline=None)
@given(value=_json, sort=st.booleans())
def test_fast_canonical_check_agrees_with_full_rfc8785_encoder(value, sort):
    candidates = [json.dumps(value, ensure_ascii=False, sort_keys=sort, separators=(",", ":"))]
    candidates.append(json.dumps(value, sort_keys=sort))
    with contextlib.suppress(TypeError, ValueError):
        candidates.append(canonical_json(value).decode("utf-8"))
    for text in candidates:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            continue
        wrapped = b'{"type":"dossier.accessed","v":1,"x":' + data + b"}"
        try:
            fast = leaf_kind(wrapped, 0) == "dossier.accessed"
        except ValueError:
            fast = False
        assert fast == _full_verdict(wrapped), wrapped


@pytest.mark.parametrize(
    "data",
    [
        '{"type":"dossier.accessed","v":1,"\ufb33":2,"\U0001f600":1}',  # code-point order, not UTF-16
        '{"type":"dossier.accessed","v":1.0}',
        '{"type":"dossier.accessed","v":9007199254740992}',
        '{"type":"dossier.accessed","v":1,"s":"\\ud800"}',
        '{"type":"dossier.accessed","v":1,"s":"\\u00e9"}',  # escaped where RFC 8785 writes the character
    ],
)
def test_leaf_kind_rejects_json_that_is_not_rfc8785_canonical(data):
    with pytest.raises(ValueError, match="leaf 0"):
        leaf_kind(data.encode("utf-8"), 0)


def test_leaf_kind_accepts_utf16_key_order_for_characters_beyond_the_bmp():
    data = canonical_json({"type": "dossier.accessed", "v": 1, "\U0001f600": 1, "\ufb33": 2})
    assert data.index("\U0001f600".encode()) < data.index("\ufb33".encode())  # UTF-16 order
    assert leaf_kind(data, 0) == "dossier.accessed"
