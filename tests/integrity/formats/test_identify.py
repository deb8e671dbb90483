"""Identification looks at content, never at the file name."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from integrity.formats.identify import id3v2_size, identify_file, identify_head, parse_mp3_header
from standards.limits import Limits


def test_identify_head_finds_pdf_header_after_leading_junk() -> None:
    found = identify_head(b"\x00" * 100 + b"%PDF-1.7\n")
    assert found.format == "PDF"
    assert "100" in found.detail


def test_identify_head_reports_quicktime_brand_as_mov_not_mp4() -> None:
    assert identify_head(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00").format == "MOV"


def test_identify_head_treats_html_as_unknown_not_xml() -> None:
    assert identify_head(b"<html><body>hi</body></html>").format == "UNKNOWN"


def test_identify_head_accepts_utf16_xml_declaration() -> None:
    assert identify_head('<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16")).format == "XML"


def test_identify_head_reports_empty_file_as_unknown() -> None:
    assert identify_head(b"").format == "UNKNOWN"


def test_parse_mp3_header_rejects_layer_two_and_reserved_rates() -> None:
    assert parse_mp3_header(bytes([0xFF, 0xFB, 0x90, 0x00])) is not None
    assert parse_mp3_header(bytes([0xFF, 0xFD, 0x90, 0x00])) is None  # Layer II
    assert parse_mp3_header(bytes([0xFF, 0xFB, 0x9C, 0x00])) is None  # sample-rate index 3 (reserved)
    assert parse_mp3_header(bytes([0xFF, 0xFB, 0xF0, 0x00])) is None  # bitrate index 15 (bad)


def test_mp3_frame_length_follows_bitrate_and_padding() -> None:
    frame = parse_mp3_header(bytes([0xFF, 0xFB, 0x92, 0x00]))  # 128 kbit/s, 44.1 kHz, padded
    assert frame is not None and frame.length == 418


def test_id3v2_size_reads_syncsafe_length() -> None:
    assert id3v2_size(b"ID3\x03\x00\x00\x00\x00\x01\x7f") == 10 + 255
    assert id3v2_size(b"ID3\x03\x00\x00\x00\x00\x01\x80") is None  # not syncsafe


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return path


def test_zip_with_ofd_xml_in_another_namespace_is_a_plain_zip(tmp_path: Path) -> None:
    path = _zip(tmp_path / "fake.ofd", {"OFD.xml": b'<OFD xmlns="urn:other"/>'})
    found = identify_file(path, limits=Limits())
    assert found.format == "ZIP"
    assert "urn:other" in found.detail


def test_zip_with_ofd_xml_below_the_root_is_a_plain_zip(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "nested.ofd", {"doc/OFD.xml": b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>'}
    )
    assert identify_file(path, limits=Limits()).format == "ZIP"


def test_ofd_identification_refuses_a_doctype_in_ofd_xml(tmp_path: Path) -> None:
    xml = b'<!DOCTYPE x [<!ENTITY a "b">]><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>'
    path = _zip(tmp_path / "dtd.ofd", {"OFD.xml": xml})
    assert identify_file(path, limits=Limits()).format == "ZIP"


def test_ofd_identification_ignores_the_extension(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[2] / "vectors" / "formats" / "valid" / "minimal.ofd"
    renamed = tmp_path / "document.bin"
    renamed.write_bytes(src.read_bytes())
    assert identify_file(renamed, limits=Limits()).format == "OFD"
