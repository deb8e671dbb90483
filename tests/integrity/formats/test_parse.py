"""Parsers refuse what the limits forbid and read creation times the formats record."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from integrity.formats.container import parse_container
from integrity.formats.media import walk_mp3
from integrity.formats.parse import parse_file, parse_image
from integrity.formats.result import ParseResult, exif_date_to_iso, pdf_date_to_iso, rfc1123_to_iso
from standards.limits import Limits

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "formats"


def test_parse_image_refuses_more_pixels_than_the_limit_before_decoding() -> None:
    result = parse_image(VECTORS / "valid" / "scan.png", "PNG", max_pixels=100)
    assert (result.ok, result.code) == (False, "image_too_large")


def test_parse_image_refuses_a_png_claimed_as_jpeg() -> None:
    result = parse_image(VECTORS / "valid" / "scan.png", "JPEG")
    assert (result.ok, result.code) == (False, "image_unreadable")


def test_truncated_jpeg_fails_although_pillow_verify_accepts_it() -> None:
    path = VECTORS / "invalid" / "truncated.jpg"
    with Image.open(path) as img:
        img.verify()  # the pitfall: verify() does not decode the scan data
    assert parse_file(path, "JPEG", limits=Limits()).code == "image_damaged"


def test_parse_container_refuses_entries_beyond_the_ratio_limit(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("OFD.xml", b"\x00" * 200_000)
    path = tmp_path / "bomb.ofd"
    path.write_bytes(buf.getvalue())
    limits = Limits(compression_ratio=10, ratio_floor_bytes=1000)
    result = parse_container(path, limits=limits, ofd=True)
    assert (result.ok, result.code) == (False, "zip_ratio_exceeded")


def test_parse_container_refuses_more_entries_than_the_limit() -> None:
    result = parse_container(VECTORS / "valid" / "minimal.ofd", limits=Limits(file_count=2), ofd=True)
    assert (result.ok, result.code) == (False, "zip_too_many_entries")


def test_parse_container_reports_a_corrupt_entry_crc(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", b"hello world, stored without compression")
    data = bytearray(buf.getvalue())
    at = data.find(b"hello")
    data[at] ^= 0xFF
    path = tmp_path / "crc.zip"
    path.write_bytes(bytes(data))
    result = parse_container(path, limits=Limits(), ofd=False)
    assert (result.ok, result.code) == (False, "zip_damaged")


def test_walk_mp3_allows_a_closing_id3v1_tag() -> None:
    frame = bytes([0xFF, 0xFB, 0x90, 0x00]) + bytes(413)
    result = walk_mp3(frame * 2 + b"TAG" + bytes(125))
    assert result.ok and result.details["frames"] == "2"


def test_walk_mp3_rejects_garbage_between_frames() -> None:
    frame = bytes([0xFF, 0xFB, 0x90, 0x00]) + bytes(413)
    assert walk_mp3(frame + b"junk" + frame).code == "mp3_frame_invalid"


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("D:20240305093000+08'00'", "2024-03-05T09:30:00+08:00"),
        ("D:20240305093000Z", "2024-03-05T09:30:00+00:00"),
        ("D:2024", "2024-01-01T00:00:00"),
        ("2024-03-05", None),
        ("D:20241305", None),
    ],
)
def test_pdf_date_to_iso(raw: str, iso: str | None) -> None:
    assert pdf_date_to_iso(raw) == iso


def test_exif_and_rfc1123_dates_convert_to_iso() -> None:
    assert exif_date_to_iso("2024:03:05 09:30:00") == "2024-03-05T09:30:00"
    assert exif_date_to_iso("    :  :     :  :  ") is None
    assert rfc1123_to_iso("Tue, 05 Mar 2024 09:30:00 +0800") == "2024-03-05T09:30:00+08:00"
    assert rfc1123_to_iso("yesterday") is None


def test_a_failed_parse_result_must_say_why() -> None:
    with pytest.raises(ValueError, match="code and an error"):
        ParseResult(ok=False, format="PDF")
