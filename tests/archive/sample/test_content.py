"""The documents themselves: PDFs and JPEGs decode, page counts and scan attributes match the metadata."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from archive.sample import SampleResult
from archive.sample.pdf import render_text_pdf, wrap_paragraph
from archive.sample.scan import ScanStyle, page_size, render_scan_page
from standards.court_package import (
    CATALOG_FILE,
    ORIGIN_DIGITISED,
    ORIGIN_ELECTRONIC,
    CatalogEntry,
    metadata_path,
)
from standards.court_xml import parse_catalog, parse_document_metadata
from standards.limits import Limits

from .conftest import NOW


def _entries(root: Path) -> list[CatalogEntry]:
    return parse_catalog((root / CATALOG_FILE).read_bytes(), limits=Limits()).entries


def test_sample_pdfs_open_and_page_count_equals_pages(sample_folder: SampleResult) -> None:
    pdfs = [e for e in _entries(sample_folder.path) if e.format == "PDF"]
    assert pdfs
    for e in pdfs:
        with pikepdf.open(sample_folder.path / e.file_path) as pdf:
            assert len(pdf.pages) == e.pages, e.file_path
            assert str(pdf.docinfo["/Title"]) == e.title


def test_sample_electronic_pdfs_have_three_to_eight_pages_of_text(sample_folder: SampleResult) -> None:
    for e in _entries(sample_folder.path):
        if e.origin == ORIGIN_ELECTRONIC:
            assert 3 <= e.pages <= 8, e.file_path
            with pikepdf.open(sample_folder.path / e.file_path) as pdf:
                fonts = pdf.pages[0].Resources.Font
                assert any("STSong-Light" in str(f.BaseFont) for f in fonts.values())


def test_sample_jpegs_decode_fully_at_the_recorded_resolution(sample_folder: SampleResult) -> None:
    root = sample_folder.path
    jpegs = [e for e in _entries(root) if e.format == "JPEG"]
    assert jpegs
    for e in jpegs:
        meta = parse_document_metadata(
            (root / metadata_path(e.sequence)).read_bytes(), limits=Limits()
        ).metadata
        with Image.open(root / e.file_path) as im:
            im.load()
            assert im.format == "JPEG"
            assert im.mode == "L"
            assert meta.scan_colour == "灰度"
            assert im.size == page_size(meta.scan_resolution or 0)
            assert e.pages == 1


def test_sample_scanned_pdfs_embed_jpeg_pages_that_decode(sample_folder: SampleResult) -> None:
    root = sample_folder.path
    scanned = [e for e in _entries(root) if e.origin == ORIGIN_DIGITISED and e.format == "PDF"]
    assert scanned
    for e in scanned:
        with pikepdf.open(root / e.file_path) as pdf:
            for page in pdf.pages:
                (image,) = page.get_images().values()
                filters = [image.Filter] if isinstance(image.Filter, pikepdf.Name) else list(image.Filter)
                assert filters == [pikepdf.Name.DCTDecode]  # embedded as is, no ASCII85 layer
                Image.open(io.BytesIO(image.read_raw_bytes())).load()


def test_sample_metadata_agrees_with_catalog_entries(sample_folder: SampleResult) -> None:
    root = sample_folder.path
    for e in _entries(root):
        m = parse_document_metadata((root / metadata_path(e.sequence)).read_bytes(), limits=Limits()).metadata
        assert (m.archival_code, m.title, m.pages, m.file_size, m.sha256, m.sm3, m.origin) == (
            e.archival_code,
            e.title,
            e.pages,
            e.file_size,
            e.sha256,
            e.sm3,
            e.origin,
        )
        assert m.file_name == e.file_path.rsplit("/", 1)[1]
        assert m.case_number == sample_folder.case_number
        if e.origin == ORIGIN_DIGITISED:
            assert e.paper_location
            assert e.paper_location.startswith("档案库房")
            assert m.scan_resolution
            assert m.scan_colour
        else:
            assert e.paper_location is None
            assert m.scan_resolution is None
        times = [s.time for s in m.history]
        assert times == sorted(times)
        assert m.history[-1].action == "归档"
        assert m.history[-1].time == NOW


def test_sample_has_both_volumes_and_internal_sub_volume(sample_folder: SampleResult) -> None:
    entries = _entries(sample_folder.path)
    assert {e.volume for e in entries} == {"正卷", "副卷"}
    assert all(e.classification == "内部" for e in entries if e.volume == "副卷")


def test_render_text_pdf_has_exact_page_count_and_is_deterministic() -> None:
    kwargs = {
        "title": "民事判决书",
        "case_number": "（2024）粤0306民初1234号",
        "court_name": "某法院",
        "author": "某法院",
        "paragraphs": ["本院认为。"],
    }
    data = render_text_pdf(pages=7, **kwargs)  # type: ignore[arg-type]
    assert data == render_text_pdf(pages=7, **kwargs)  # type: ignore[arg-type]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == 7


def test_render_text_pdf_rejects_zero_pages() -> None:
    with pytest.raises(ValueError, match="pages"):
        render_text_pdf(title="t", case_number="c", court_name="c", author="a", paragraphs=["x"], pages=0)


def test_wrap_paragraph_indents_and_cuts_by_characters() -> None:
    lines = wrap_paragraph("一二三四五六七", width=4)
    assert lines == ["\u3000\u3000一二", "三四五六", "七"]


def test_render_scan_page_is_deterministic_and_noise_grows_the_file() -> None:
    quiet = ScanStyle(dpi=60, noise=0, quality=80)
    noisy = ScanStyle(dpi=60, noise=255, quality=95)
    assert render_scan_page(1, 1, 1, quiet) == render_scan_page(1, 1, 1, quiet)
    assert len(render_scan_page(1, 1, 1, noisy)) > 3 * len(render_scan_page(1, 1, 1, quiet))
    assert render_scan_page(1, 1, 2, noisy) != render_scan_page(2, 1, 2, noisy)


def test_scan_style_rejects_out_of_range_values() -> None:
    with pytest.raises(ValueError, match="quality"):
        ScanStyle(quality=100)
