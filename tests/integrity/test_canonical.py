from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrity.canonical import MAX_SAFE_INTEGER, canonical_json, canonical_json_reference


def test_canonical_json_sorts_keys_by_utf16_code_units():
    # RFC 8785 §3.2.3: property names are sorted by their UTF-16 code units, so U+1F600
    # (surrogates D83D DE00) sorts before U+FB33 although its code point is larger.
    value = {"\ufb33": 7, "\U0001f600": 6, "\u20ac": 5, "\u00f6": 4, "\u0080": 3, "1": 2, "\r": 1}
    assert canonical_json(value) == (
        '{"\\r":1,"1":2,"\u0080":3,"\u00f6":4,"\u20ac":5,"\U0001f600":6,"\ufb33":7}'.encode()
    )


def test_canonical_json_has_no_whitespace_and_keeps_unicode():
    assert (
        canonical_json({"b": [1, True, None, False], "a": "卷宗 \n"})
        == '{"a":"卷宗 \\n","b":[1,true,null,false]}'.encode()
    )


def test_canonical_json_is_independent_of_insertion_order():
    assert canonical_json({"x": 1, "y": {"b": 2, "a": 3}}) == canonical_json({"y": {"a": 3, "b": 2}, "x": 1})


def test_canonical_json_rejects_float():
    with pytest.raises(TypeError, match=r"\$\.size"):
        canonical_json({"size": 1.0})


def test_canonical_json_rejects_nested_float_in_list():
    with pytest.raises(TypeError, match=r"\$\[1\]\[0\]"):
        canonical_json([1, [0.5]])


@pytest.mark.parametrize("n", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 2**64])
def test_canonical_json_rejects_integer_outside_safe_range(n):
    with pytest.raises(ValueError, match="safe range"):
        canonical_json({"n": n})


@pytest.mark.parametrize("n", [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0])
def test_canonical_json_accepts_integer_at_safe_range_edge(n):
    assert canonical_json(n) == str(n).encode()


def test_canonical_json_rejects_non_string_key():
    with pytest.raises(TypeError, match="keys must be str"):
        canonical_json({1: "a"})


def test_canonical_json_rejects_bytes():
    with pytest.raises(TypeError, match="bytes"):
        canonical_json({"data": b"\x00"})


# ---------------------------------------------------------------- the fast path equals rfc8785
_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | _text
    | st.sampled_from(["\ud800", "a\udfffb", "\U0001f600", "\ue000", "\u2028", "\x7f", "\x00\x1f"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(_text | st.sampled_from(["\U0001f600", "\ue000", "\ud83d"]), children, max_size=4),
    max_leaves=20,
)


@given(_json)
@settings(max_examples=500)
def test_fast_encoder_is_byte_for_byte_rfc8785(value: object) -> None:
    def outcome(encode: Callable[[object], bytes]) -> object:
        try:
            return encode(value)
        except Exception as error:  # a lone surrogate: both must refuse it the same way
            return type(error)

    assert outcome(canonical_json) == outcome(canonical_json_reference)


def test_astral_keys_sort_by_utf16_code_units_on_the_fast_path() -> None:
    value = {"\U0001f600": 1, "\ue000": 2}  # U+1F600 is D83D DE00 in UTF-16: before U+E000
    assert canonical_json(value) == canonical_json_reference(value)
    assert canonical_json(value).decode().index("\U0001f600") < canonical_json(value).decode().index("\ue000")
