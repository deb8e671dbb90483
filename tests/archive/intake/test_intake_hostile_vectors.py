"""Each committed hostile vector is refused by its reader with its exact error class and code.

ZIP-level vectors (``reader`` = ``zip``) are refused by intake and leave no staging folder. The
content-level ones are staged by intake (their container is honest) and refused by the court-package
validator, the BagIt validator or the EEP reader; their unmutated base package is valid, so each
refusal is the mutation's. The ingest side of the same corpus is ``tests/archive/ingest/test_hostile_ingest.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import shutil
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

import archive.intake as intake
from archive.bag_digests import digest_reader
from archive.intake import open_package
from standards import eep, xml_parser
from standards.bagit import validate_bag
from standards.errors import BadInput
from standards.limits import Limits
from standards.problems import Problem
from standards.validation import validate_court_package
from tests.archive.intake.intake_helpers import HOSTILE, leftovers, load_craft

with open(HOSTILE / "expected.csv", encoding="utf-8") as _fh:
    EXPECTED = list(csv.DictReader(_fh))
ZIP_ROWS = [r for r in EXPECTED if r["reader"] == "zip"]
CONTENT_ROWS = [r for r in EXPECTED if r["reader"] != "zip"]
TODAY = dt.date(2025, 3, 1)


def _refuse(vector: Path, staging_root: Path, limits: Limits | None = None, workers: int = 2) -> BadInput:
    before = hashlib.sha256(vector.read_bytes()).hexdigest()
    with pytest.raises(BadInput) as caught:
        open_package(vector, staging_root, limits=limits or Limits(), workers=workers)
    assert hashlib.sha256(vector.read_bytes()).hexdigest() == before, "input was modified"
    assert leftovers(staging_root) == [], "staging folder left behind"
    return caught.value


@pytest.mark.parametrize("row", ZIP_ROWS, ids=[r["file"] for r in ZIP_ROWS])
def test_open_package_refuses_hostile_vector(row: dict[str, str], staging_root: Path) -> None:
    error = _refuse(HOSTILE / row["file"], staging_root)
    assert type(error) is getattr(intake, row["error_class"])
    assert error.code == row["code"]
    assert isinstance(error, intake.IntakeError)


def test_error_codes_are_distinct() -> None:
    classes = [getattr(intake, name) for name in intake.__all__ if isinstance(getattr(intake, name), type)]
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes))


def test_hostile_vectors_match_their_generator(tmp_path: Path) -> None:
    written = load_craft().main(tmp_path)
    for path in written:
        assert path.read_bytes() == (HOSTILE / path.name).read_bytes(), (
            f"{path.name} drifted; rerun make_hostile.py"
        )
    assert {p.name for p in written} == {p.name for p in HOSTILE.iterdir()}


def test_zip_bomb_by_ratio_is_refused_quickly_with_bounded_memory(staging_root: Path) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        error = _refuse(HOSTILE / "zip_bomb_ratio.zip", staging_root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert type(error) is intake.CompressionRatioExceeded
    assert time.perf_counter() - started < 2.0
    assert peak < 8 * 1024 * 1024


def test_lying_header_is_refused_while_streaming_after_one_chunk(staging_root: Path) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        error = _refuse(HOSTILE / "lying_header_bomb.zip", staging_root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert type(error) is intake.SizeMismatch
    assert "1000" in error.message
    assert time.perf_counter() - started < 2.0
    assert peak < 16 * 1024 * 1024  # a few 1 MiB chunks, never the 50 MB


def test_lying_header_is_refused_by_ratio_while_streaming(staging_root: Path) -> None:
    # Declared 1000 bytes passes the up-front ratio check; the first real chunk (1 MiB) crosses 10x.
    error = _refuse(
        HOSTILE / "lying_header_bomb.zip", staging_root, Limits(compression_ratio=10, ratio_floor_bytes=0)
    )
    assert type(error) is intake.CompressionRatioExceeded


def test_crc_mismatch_is_refused_with_both_crcs_named(staging_root: Path) -> None:
    error = _refuse(HOSTILE / "crc_mismatch.zip", staging_root, workers=1)
    assert "12345678" in error.message
    assert "x.pdf" in error.message


# ------------------------------------------------------------------ hostile contents in honest containers
def _error_class(name: str) -> type[BadInput]:
    cls = getattr(xml_parser, name, None) or getattr(eep, name)
    assert isinstance(cls, type) and issubclass(cls, BadInput)
    return cls


def _staged_problems(vector: Path, reader: str, staging_root: Path) -> tuple[list[Problem], dict[str, bytes]]:
    """Stage ``vector`` with intake, run the reader's validator; the problems and the staged XML bytes."""
    staged = open_package(vector, staging_root, limits=Limits())
    try:
        if reader == "court":
            problems = validate_court_package(staged, limits=Limits(), today=TODAY).problems
        else:
            problems = validate_bag(staged, digest_reader(staged), Limits()).problems
        xml = {f.path: staged.read_bytes(f.path) for f in staged.files if f.path.endswith(".xml")}
    finally:
        shutil.rmtree(staged.root)
    return problems, xml


@pytest.mark.parametrize("row", CONTENT_ROWS, ids=[r["file"] for r in CONTENT_ROWS])
def test_reader_refuses_hostile_content_with_its_code(
    row: dict[str, str], staging_root: Path, tmp_path: Path
) -> None:
    vector = HOSTILE / row["file"]
    before = hashlib.sha256(vector.read_bytes()).hexdigest()
    if row["reader"] == "eep":
        staging = tmp_path / "eep-staging"
        with pytest.raises(BadInput) as caught:
            eep.decode_eep_files(vector, staging, Limits())
        assert type(caught.value) is _error_class(row["error_class"])
        assert caught.value.code == row["code"]
        assert not staging.exists(), "EEP staging folder left behind"
        if row["error_class"].startswith("Xml"):  # the whole-document reader refuses it the same way
            with pytest.raises(_error_class(row["error_class"])):
                eep.parse_eep(vector.read_bytes(), Limits())
    else:
        problems, xml = _staged_problems(vector, row["reader"], staging_root)
        codes = [p.code for p in problems]
        assert row["code"] in codes, codes
        if row["reader"] == "court":  # validation reports the mutation first
            assert codes[0] == row["code"], codes
        if row["error_class"] != "Problem":  # the parser error behind the problem, on the staged bytes
            refused = next(p for p in problems if p.code == row["code"])
            assert refused.path in xml
            with pytest.raises(_error_class(row["error_class"])):
                xml_parser.parse_xml(xml[refused.path], limits=Limits(), path=refused.path)
        assert leftovers(staging_root) == []
    assert hashlib.sha256(vector.read_bytes()).hexdigest() == before, "input was modified"


def test_content_vectors_mutate_valid_packages(staging_root: Path, tmp_path: Path) -> None:
    craft = load_craft()
    content = craft.load_content()
    court = tmp_path / "court.zip"
    court.write_bytes(craft.zip_files(content.base_court_files()))
    problems, _ = _staged_problems(court, "court", staging_root)
    assert problems == []
    bag = tmp_path / "bag.zip"
    bag.write_bytes(craft.zip_files(content.bag_files()))
    problems, _ = _staged_problems(bag, "bagit", staging_root)
    assert problems == []
    staged = eep.decode_eep_files(content.EEP_BASE, tmp_path / "eep", Limits())
    assert [f.path for f in staged.files][1:] == [
        "文件数据/DOC1/民事判决书.pdf",
        "文件数据/DOC2/送达回证.png",
    ]
    eep.parse_eep(content.EEP_BASE.read_bytes(), Limits())


def test_giant_attribute_is_refused_with_a_bounded_message(staging_root: Path) -> None:
    # libxml2 quotes the whole offending value (up to 64 KB) in an XSD message; a problem quotes 500 characters
    problems, _ = _staged_problems(HOSTILE / "court_giant_attribute.zip", "court", staging_root)
    assert [p.code for p in problems] == ["xsd_invalid"]
    assert len(problems[0].message) < 1000
    assert "characters cut" in problems[0].message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_utf7_doctype_does_not_make_the_parser_open_its_external_subset(tmp_path: Path) -> None:
    # Regression: UTF-7 hid "<!DOCTYPE" from the byte scan and libxml2 opened the SYSTEM file even with
    # load_dtd=False; a FIFO (or /dev/stdin) there blocked the parser for ever.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    content = load_craft().load_content()
    description = content.base_court_files()["说明文件.xml"]
    data = content.utf7_doctype_document(description, f'<!DOCTYPE 说明文件 SYSTEM "{fifo.as_uri()}">')
    assert not xml_parser.has_doctype_marker(data)
    outcome: list[BaseException] = []

    def parse() -> None:
        try:
            xml_parser.parse_xml(data, limits=Limits())
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=parse, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # release the blocked open() before failing
        with open(fifo, "wb"):
            pass
        worker.join(10)
        pytest.fail("parse_xml opened the FIFO named by a UTF-7 DOCTYPE")
    assert [type(e) for e in outcome] == [xml_parser.XmlDoctypeForbiddenError]
