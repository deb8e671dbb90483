"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for ledger leaves and AIP manifests.

The bytes of a ledger leaf must be reproducible by any verifier, so every event is encoded with
RFC 8785 (sorted keys by UTF-16 code units, no insignificant whitespace, ES6 number form).
We narrow the JSON data model to what edossier stores: ``str``, ``int`` (within the I-JSON safe
range, RFC 7493 §2.2), ``bool``, ``None``, ``list``/``tuple`` and ``dict`` with ``str`` keys.
Floats are refused outright: their text form is a source of cross-implementation disagreement.
The encoding is done by the ``rfc8785`` package, or — when the value allows it, which is almost
always — by the standard library's C encoder, whose output is then byte-for-byte the same: with no
floats, every key in the Basic Multilingual Plane (so code-point order is UTF-16 order) and no lone
surrogate (which RFC 8785 escapes and UTF-8 cannot encode), ``json.dumps`` with sorted keys, no
whitespace and ``ensure_ascii=False`` escapes exactly what ECMAScript's ``JSON.stringify`` escapes.
A property test compares both encoders.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import rfc8785

# RFC 7493 §2.2 / RFC 8785 §3.2.2.3: integers beyond ±(2**53 - 1) cannot round-trip through IEEE 754.
MAX_SAFE_INTEGER = 2**53 - 1


def _check(value: object, where: str) -> bool:
    """Walk ``value`` and refuse anything outside the narrowed JSON model.

    Returns whether a key holds a character outside the Basic Multilingual Plane (then Python's
    key order, by code point, may differ from RFC 8785's, by UTF-16 code unit).

    Raises:
        TypeError: a float, a non-``str`` dict key or an unsupported type.
        ValueError: an integer outside ±(2**53 - 1).
    """
    if value is None or isinstance(value, str | bool):
        return False
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError(
                f"{where}: integer outside the I-JSON safe range ±{MAX_SAFE_INTEGER} (found {value})"
            )
        return False
    if isinstance(value, float):
        raise TypeError(f"{where}: floats are not allowed in canonical JSON (found {value!r})")
    astral = False
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            astral = _check(item, f"{where}[{i}]") or astral
        return astral
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: object keys must be str (found {type(key).__name__})")
            if not key.isascii() and max(key) > "\uffff":
                astral = True
            astral = _check(item, f"{where}.{key}") or astral
        return astral
    raise TypeError(f"{where}: type {type(value).__name__} is not allowed in canonical JSON")


def canonical_json(value: object) -> bytes:
    """Encode ``value`` as RFC 8785 canonical JSON (UTF-8 bytes).

    >>> canonical_json({"b": [1, True, None], "a": "电子卷宗"}).decode()
    '{"a":"电子卷宗","b":[1,true,null]}'

    Raises:
        TypeError: ``value`` contains a float, a non-``str`` key or another unsupported type.
        ValueError: ``value`` contains an integer outside ±(2**53 - 1).
    """
    if not _check(value, "$"):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: RFC 8785 escapes it
    encoded: bytes = rfc8785.dumps(cast(Any, value))
    return encoded


def canonical_json_reference(value: object) -> bytes:
    """:func:`canonical_json` always through the ``rfc8785`` package (what the fast path is tested against)."""
    _check(value, "$")
    encoded: bytes = rfc8785.dumps(cast(Any, value))
    return encoded
