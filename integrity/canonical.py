"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for ledger leaves and AIP manifests.

The bytes of a ledger leaf must be reproducible by any verifier, so every event is encoded with
RFC 8785 (sorted keys by UTF-16 code units, no insignificant whitespace, ES6 number form).
We narrow the JSON data model to what edossier stores: ``str``, ``int`` (within the I-JSON safe
range, RFC 7493 §2.2), ``bool``, ``None``, ``list``/``tuple`` and ``dict`` with ``str`` keys.
Floats are refused outright: their text form is a source of cross-implementation disagreement.
The encoding itself is done by the ``rfc8785`` package; this module only guards the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import rfc8785

# RFC 7493 §2.2 / RFC 8785 §3.2.2.3: integers beyond ±(2**53 - 1) cannot round-trip through IEEE 754.
MAX_SAFE_INTEGER = 2**53 - 1


def _check(value: object, where: str) -> None:
    """Walk ``value`` and refuse anything outside the narrowed JSON model.

    Raises:
        TypeError: a float, a non-``str`` dict key or an unsupported type.
        ValueError: an integer outside ±(2**53 - 1).
    """
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError(
                f"{where}: integer outside the I-JSON safe range ±{MAX_SAFE_INTEGER} (found {value})"
            )
        return
    if isinstance(value, float):
        raise TypeError(f"{where}: floats are not allowed in canonical JSON (found {value!r})")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: object keys must be str (found {type(key).__name__})")
            _check(item, f"{where}.{key}")
        return
    raise TypeError(f"{where}: type {type(value).__name__} is not allowed in canonical JSON")


def canonical_json(value: object) -> bytes:
    """Encode ``value`` as RFC 8785 canonical JSON (UTF-8 bytes).

    >>> canonical_json({"b": [1, True, None], "a": "电子卷宗"}).decode()
    '{"a":"电子卷宗","b":[1,true,null]}'

    Raises:
        TypeError: ``value`` contains a float, a non-``str`` key or another unsupported type.
        ValueError: ``value`` contains an integer outside ±(2**53 - 1).
    """
    _check(value, "$")
    encoded: bytes = rfc8785.dumps(cast(Any, value))
    return encoded
