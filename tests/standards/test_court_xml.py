from __future__ import annotations

import pytest

from standards.court_xml import (
    CATALOG_SCHEMA,
    DESCRIPTION_SCHEMA,
    METADATA_SCHEMA,
    CourtXmlValueError,
    catalog_from_xml,
    parse_catalog,
    parse_description,
    parse_document_metadata,
    render_catalog,
    render_description,
    render_document_metadata,
)
from standards.limits import Limits
from standards.xml_parser import XmlSchemaViolationError, parse_xml, schema_violations
from tests.standards.builders import CASE, valid_spec

LIMITS = Limits()


def test_render_description_round_trips_and_is_schema_valid() -> None:
    spec = valid_spec()
    data = render_description(spec.description)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert schema_violations(parse_xml(data, limits=LIMITS), DESCRIPTION_SCHEMA) == []
    parsed = parse_description(data, limits=LIMITS)
    assert parsed.description == spec.description
    assert parsed.lines["案号"] == 3


def test_render_catalog_round_trips_with_lines_per_entry() -> None:
    spec = valid_spec()
    data = render_catalog(CASE, spec.entries)
    assert schema_violations(parse_xml(data, limits=LIMITS), CATALOG_SCHEMA) == []
    parsed = parse_catalog(data, limits=LIMITS)
    assert parsed.case_number == CASE
    assert parsed.entries == spec.entries
    assert sorted(parsed.lines) == [1, 2, 3]
    assert parsed.lines[1] < parsed.lines[2] < parsed.lines[3]


def test_render_document_metadata_round_trips_including_scan_and_history() -> None:
    import dataclasses

    spec = valid_spec()
    m = dataclasses.replace(
        spec.metadata[1],
        origin="纸质原件数字化",
        paper_location="档案室A架3层",
        scan_resolution=300,
        scan_colour="彩色",
    )
    data = render_document_metadata(m)
    assert schema_violations(parse_xml(data, limits=LIMITS), METADATA_SCHEMA) == []
    parsed = parse_document_metadata(data, limits=LIMITS)
    assert parsed.metadata == m
    assert parsed.lines["内容描述/题名"] > parsed.lines["案号"]


def test_parse_catalog_rejects_schema_violation_with_line() -> None:
    data = render_catalog(CASE, valid_spec().entries).replace("<卷别>副卷".encode(), "<卷别>附卷".encode())
    with pytest.raises(XmlSchemaViolationError) as info:
        parse_catalog(data, limits=LIMITS)
    assert info.value.line is not None
    assert info.value.line > 1


def test_catalog_from_xml_rejects_bad_integer_naming_element() -> None:
    data = render_catalog(CASE, valid_spec().entries).replace(
        b"<\xe9\xa1\xb5\xe6\x95\xb0>3", "<页数>三".encode()
    )
    with pytest.raises(CourtXmlValueError, match="页数"):
        catalog_from_xml(parse_xml(data, limits=LIMITS))
