"""Every vector in tests/vectors/formats is identified by content and parses as expected.json records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from integrity.formats import identify_file, parse_file
from standards.limits import Limits

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "formats"
EXPECTED: dict[str, dict[str, Any]] = json.loads((VECTORS / "expected.json").read_text("utf-8"))


def test_every_vector_file_has_an_expectation_and_every_expectation_a_file() -> None:
    on_disk = {p.relative_to(VECTORS).as_posix() for p in VECTORS.glob("*/*") if p.is_file()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vector_is_identified_by_content(name: str) -> None:
    found = identify_file(VECTORS / name, limits=Limits())
    assert (found.format, found.mime) == (EXPECTED[name]["format"], EXPECTED[name]["mime"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vector_parses_as_recorded(name: str) -> None:
    want = EXPECTED[name]
    result = parse_file(VECTORS / name, want["format"], limits=Limits())
    got = {
        "ok": result.ok,
        "pages": result.pages,
        "encrypted": result.encrypted,
        "created": result.created,
        "code": result.code,
    }
    assert got == {k: want[k] for k in got}
    if "compression_methods" in want:
        assert list(result.compression_methods) == want["compression_methods"]
    assert result.ok == (result.error is None)
