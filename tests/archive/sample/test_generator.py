"""generate_sample: determinism, output handling (folder/ZIP), counts, sizes and digests."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from archive.sample import SampleResult, SampleTargetExists, generate_sample
from integrity.hashing import digest_bytes
from standards.court_package import CATALOG_FILE, DESCRIPTION_FILE
from standards.court_xml import parse_catalog, parse_description
from standards.errors import BadInput
from standards.limits import Limits

from .conftest import NOW, read_tree


def test_generate_sample_same_seed_gives_identical_folders(
    tmp_path: Path, sample_folder: SampleResult
) -> None:
    again = generate_sample(tmp_path / "again", seed=7, documents=14, now=NOW)
    assert read_tree(again.path) == read_tree(sample_folder.path)


def test_generate_sample_same_seed_gives_identical_zip_bytes(
    tmp_path: Path, sample_zip: SampleResult
) -> None:
    again = generate_sample(tmp_path / "again.zip", seed=3, as_zip=True, now=NOW)
    assert again.path.read_bytes() == sample_zip.path.read_bytes()


def test_generate_sample_other_seed_gives_other_case(tmp_path: Path, sample_folder: SampleResult) -> None:
    other = generate_sample(tmp_path / "other", seed=8, documents=3, now=NOW)
    assert other.case_number != sample_folder.case_number


def test_generate_sample_description_counts_and_bytes_match_files(sample_folder: SampleResult) -> None:
    root = sample_folder.path
    desc = parse_description((root / DESCRIPTION_FILE).read_bytes(), limits=Limits()).description
    entries = parse_catalog((root / CATALOG_FILE).read_bytes(), limits=Limits()).entries
    assert desc.document_count == len(entries) == sample_folder.documents == 14
    sizes = [(root / e.file_path).stat().st_size for e in entries]
    assert sizes == [e.file_size for e in entries]
    assert desc.total_bytes == sum(sizes) == sample_folder.total_bytes
    assert desc.case_number == sample_folder.case_number
    assert desc.submitted_at == NOW
    content = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.suffix != ".xml"}
    assert content == {e.file_path for e in entries}


def test_generate_sample_catalog_digests_match_file_bytes(sample_folder: SampleResult) -> None:
    root = sample_folder.path
    for e in parse_catalog((root / CATALOG_FILE).read_bytes(), limits=Limits()).entries:
        digests = digest_bytes((root / e.file_path).read_bytes())
        assert (digests["sha256"], digests["sm3"]) == (e.sha256, e.sm3)


def test_generate_sample_zip_has_case_number_top_folder_and_utf8_names(sample_zip: SampleResult) -> None:
    assert sample_zip.path.suffix == ".zip"
    with zipfile.ZipFile(sample_zip.path) as zf:
        infos = zf.infolist()
        assert zf.testzip() is None
    assert {i.filename.split("/", 1)[0] for i in infos} == {sample_zip.case_number}
    assert all(i.flag_bits & 0x800 for i in infos)
    assert len({i.date_time for i in infos}) == 1
    names = {i.filename.split("/", 1)[1] for i in infos}
    assert {DESCRIPTION_FILE, CATALOG_FILE, "元数据/0001.xml"} <= names


def test_generate_sample_zip_keeps_an_explicit_suffix(tmp_path: Path) -> None:
    result = generate_sample(tmp_path / "x.ZIP", seed=1, documents=1, as_zip=True, now=NOW)
    assert result.path == tmp_path / "x.ZIP"


def test_generate_sample_fills_an_existing_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = generate_sample(tmp_path / "empty", seed=1, documents=2, now=NOW)
    assert (result.path / DESCRIPTION_FILE).is_file()


def test_generate_sample_refuses_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(SampleTargetExists) as info:
        generate_sample(tmp_path / "busy", seed=1, documents=2, now=NOW)
    assert isinstance(info.value, BadInput)
    assert info.value.code == "sample_target_exists"
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]


def test_generate_sample_refuses_existing_zip(tmp_path: Path) -> None:
    (tmp_path / "out.zip").write_bytes(b"old")
    with pytest.raises(SampleTargetExists):
        generate_sample(tmp_path / "out", seed=1, documents=2, as_zip=True, now=NOW)
    assert (tmp_path / "out.zip").read_bytes() == b"old"


def test_generate_sample_rejects_naive_now(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        generate_sample(tmp_path / "n", now=dt.datetime(2025, 3, 1))
    assert not (tmp_path / "n").exists()


def test_generate_sample_rejects_now_before_closing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="closing date"):
        generate_sample(tmp_path / "n", now=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert list(tmp_path.iterdir()) == []


def test_generate_sample_reaches_roughly_the_target_bytes(tmp_path: Path) -> None:
    target = 24 * 1024 * 1024
    result = generate_sample(tmp_path / "big", seed=5, documents=20, target_bytes=target, now=NOW)
    assert 0.8 * target <= result.total_bytes <= 1.2 * target
    assert result.documents == 20
