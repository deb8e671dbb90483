"""Hardened parser and XSDs against the vectors in tests/vectors/xml (expected.csv names the outcome)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from standards.limits import Limits
from standards.xml_parser import (
    XmlDoctypeForbiddenError,
    XmlSyntaxError,
    XmlTooLargeError,
    load_schema,
    parse_xml,
    schema_violations,
)

VECTORS = Path(__file__).parents[1] / "vectors" / "xml"
ROWS = list(csv.DictReader((VECTORS / "expected.csv").open(encoding="utf-8")))
LIMITS = Limits()


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"])
def test_xml_vector_gives_expected_outcome(row: dict[str, str]) -> None:
    data = (VECTORS / row["file"]).read_bytes()
    expected = row["expected"]
    if expected in ("xml_doctype_forbidden", "xml_syntax_error"):
        with pytest.raises((XmlDoctypeForbiddenError, XmlSyntaxError)) as info:
            parse_xml(data, limits=LIMITS, path=row["file"])
        assert info.value.code == expected
        return
    violations = schema_violations(parse_xml(data, limits=LIMITS), row["schema"])
    if expected == "valid":
        assert violations == []
    else:
        assert violations, "expected an XSD error"
        assert all(v.line for v in violations)
        assert any(v.type_name.startswith(expected) for v in violations), violations


def test_parse_xml_rejects_document_over_limit() -> None:
    with pytest.raises(XmlTooLargeError, match="xml_bytes"):
        parse_xml(b"<a>" + b"x" * 100 + b"</a>", limits=Limits(xml_bytes=50))


def test_parse_xml_reports_syntax_error_line() -> None:
    with pytest.raises(XmlSyntaxError) as info:
        parse_xml(b"<a>\n<b>\n</a>", limits=LIMITS)
    assert info.value.line == 3


def test_parse_xml_rejects_billion_laughs_without_expanding() -> None:
    doc = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>'
    )
    with pytest.raises(XmlDoctypeForbiddenError):
        parse_xml(doc, limits=LIMITS)


def test_parse_xml_accepts_gb18030_declared_document() -> None:
    root = parse_xml(
        '<?xml version="1.0" encoding="GB18030"?><题名>起诉状</题名>'.encode("gb18030"), limits=LIMITS
    )
    assert root.text == "起诉状"


def test_load_schema_is_cached_and_rejects_unknown_name() -> None:
    assert load_schema("court/catalog.xsd") is load_schema("court/catalog.xsd")
    with pytest.raises(ValueError, match="unknown schema"):
        load_schema("court/../../errors.py")
