"""open_package on well-formed ZIPs: names (GB18030, UTF-8, Unicode Path), layout, digests, limits."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

import archive.intake as intake
from archive.intake import open_package
from standards.limits import Limits
from standards.package import StagedPackage
from tests.archive.intake.intake_helpers import leftovers


def _noise(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)  # incompressible, like a scanned PDF


DOCS = {
    "正卷/0001-起诉状.pdf": b"%PDF-1.7 complaint\n" * 100,
    "正卷/0002-答辩状.pdf": b"%PDF-1.7 defence\n" * 3000,
    "副卷/0001-合议庭评议笔录.pdf": _noise(1_280_000, 1),
}


def _zipfile_bytes(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _gb18030_zip(craft: ModuleType, files: dict[str, bytes]) -> bytes:
    # What ZIP tools on Chinese Windows write: GB18030 bytes, flag bit 11 clear, MS-DOS creator.
    data: bytes = craft.craft_zip(
        [
            craft.Entry(n.encode("gb18030"), d, method=craft.DEFLATED, create_system=0, external_attr=0x20)
            for n, d in files.items()
        ]
    )
    return data


def _assert_matches(pkg: StagedPackage, files: dict[str, bytes]) -> None:
    assert sorted(f.path for f in pkg.files) == sorted(files)
    for path, data in files.items():
        staged = pkg.get(path)
        assert staged is not None
        assert staged.size == len(data)
        assert staged.digests["sha256"] == hashlib.sha256(data).hexdigest()
        assert staged.digests["sm3"] == hashlib.new("sm3", data).hexdigest()
        assert pkg.read_bytes(path) == data


def test_open_package_stages_gb18030_names_without_utf8_flag(
    tmp_path: Path, staging_root: Path, craft: ModuleType
) -> None:
    source = _write(tmp_path, "case.zip", _gb18030_zip(craft, DOCS))
    assert any(not i.flag_bits & 0x800 for i in zipfile.ZipFile(source).infolist())
    pkg = open_package(source, staging_root, limits=Limits())
    _assert_matches(pkg, DOCS)
    assert (pkg.root / "正卷" / "0001-起诉状.pdf").is_file()


def test_open_package_stages_utf8_flagged_names(tmp_path: Path, staging_root: Path) -> None:
    source = _write(tmp_path, "case.zip", _zipfile_bytes(DOCS))
    assert all(i.flag_bits & 0x800 for i in zipfile.ZipFile(source).infolist())
    pkg = open_package(source, staging_root, limits=Limits())
    _assert_matches(pkg, DOCS)
    assert pkg.source_kind == "zip"
    assert pkg.source_name == "case.zip"


def test_open_package_honours_unicode_path_extra_field(
    tmp_path: Path, staging_root: Path, craft: ModuleType
) -> None:
    raw = b"scan_0001.pdf"  # what an old tool put in the header; the extra field carries the real name
    entry = craft.Entry(raw, b"%PDF", extra=craft.unicode_path_extra(raw, "0001-起诉状.pdf"))
    pkg = open_package(_write(tmp_path, "a.zip", craft.craft_zip([entry])), staging_root, limits=Limits())
    assert [f.path for f in pkg.files] == ["0001-起诉状.pdf"]


def test_open_package_ignores_unicode_path_extra_with_wrong_crc(
    tmp_path: Path, staging_root: Path, craft: ModuleType
) -> None:
    entry = craft.Entry(b"scan.pdf", b"%PDF", extra=craft.unicode_path_extra(b"other.pdf", "正卷/x.pdf"))
    pkg = open_package(_write(tmp_path, "a.zip", craft.craft_zip([entry])), staging_root, limits=Limits())
    assert [f.path for f in pkg.files] == ["scan.pdf"]


def test_open_package_normalises_names_to_nfc(tmp_path: Path, staging_root: Path) -> None:
    source = _write(tmp_path, "a.zip", _zipfile_bytes({"cafe\u0301.pdf": b"x"}))
    pkg = open_package(source, staging_root, limits=Limits())
    assert [f.path for f in pkg.files] == ["caf\u00e9.pdf"]


def test_open_package_strips_single_top_folder(tmp_path: Path, staging_root: Path) -> None:
    wrapped = {f"(2023)京0105民初123号/{k}": v for k, v in DOCS.items()}
    source = _write(
        tmp_path, "a.zip", _zipfile_bytes({**wrapped, "(2023)京0105民初123号/说明文件.xml": b"<x/>"})
    )
    pkg = open_package(source, staging_root, limits=Limits())
    assert sorted(f.path for f in pkg.files) == sorted([*DOCS, "说明文件.xml"])


def test_open_package_keeps_layout_with_description_file_at_root(tmp_path: Path, staging_root: Path) -> None:
    files = {**DOCS, "说明文件.xml": b"<x/>"}
    pkg = open_package(_write(tmp_path, "a.zip", _zipfile_bytes(files)), staging_root, limits=Limits())
    _assert_matches(pkg, files)


def test_open_package_skips_directory_entries(tmp_path: Path, staging_root: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.mkdir("正卷")
        zf.mkdir("空目录")
        zf.writestr("正卷/a.pdf", b"a")
        zf.writestr("目录文件.xml", b"<x/>")
    pkg = open_package(_write(tmp_path, "a.zip", buf.getvalue()), staging_root, limits=Limits())
    assert [f.path for f in pkg.files] == ["正卷/a.pdf", "目录文件.xml"]


def test_open_package_detects_zip_by_magic_not_extension(tmp_path: Path, staging_root: Path) -> None:
    pkg = open_package(_write(tmp_path, "upload.bin", _zipfile_bytes(DOCS)), staging_root, limits=Limits())
    assert pkg.source_kind == "zip"


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflate"])
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_open_package_digests_match_hashlib(
    tmp_path: Path, staging_root: Path, compression: int, workers: int
) -> None:
    files = {f"{('正卷', '副卷')[i % 2]}/{i:04d}.pdf": _noise(i * 230_000 + 1, i) for i in range(12)}
    data = _zipfile_bytes(files, compression)
    source = _write(tmp_path, "a.zip", data)
    pkg = open_package(source, staging_root, limits=Limits(), workers=workers)
    _assert_matches(pkg, files)
    assert pkg.source_digest == hashlib.sha256(data).hexdigest()
    assert pkg.root.parent == staging_root


def test_open_package_reports_only_requested_algorithms(tmp_path: Path, staging_root: Path) -> None:
    source = _write(tmp_path, "a.zip", _zipfile_bytes(DOCS))
    pkg = open_package(source, staging_root, limits=Limits(), algorithms=("sm3",))
    assert all(set(f.digests) == {"sm3"} for f in pkg.files)


def test_open_package_rejects_unknown_algorithm_as_caller_bug(tmp_path: Path, staging_root: Path) -> None:
    with pytest.raises(ValueError, match="md5"):
        open_package(
            _write(tmp_path, "a.zip", _zipfile_bytes(DOCS)),
            staging_root,
            limits=Limits(),
            algorithms=("md5",),
        )


def test_open_package_uses_a_fresh_staging_folder_each_time(tmp_path: Path, staging_root: Path) -> None:
    source = _write(tmp_path, "a.zip", _zipfile_bytes(DOCS))
    first = open_package(source, staging_root, limits=Limits())
    second = open_package(source, staging_root, limits=Limits())
    assert first.root != second.root
    assert first.files == second.files


def test_open_package_refuses_missing_source(tmp_path: Path, staging_root: Path) -> None:
    with pytest.raises(intake.SourceNotFound):
        open_package(tmp_path / "nope.zip", staging_root, limits=Limits())


# ------------------------------------------------------------------ limits
LIMIT_CASES = [
    ("too_many_files", Limits(file_count=2), intake.TooManyFiles),
    ("file_too_large", Limits(file_bytes=100_000), intake.FileTooLarge),
    ("package_too_large", Limits(package_bytes=1_000_000), intake.PackageTooLarge),
    ("path_too_long", Limits(path_length=12), intake.PathTooLong),
    ("path_too_deep", Limits(path_depth=2), intake.PathTooDeep),
    ("ratio", Limits(compression_ratio=2, ratio_floor_bytes=1000), intake.CompressionRatioExceeded),
]


@pytest.mark.parametrize(("limits", "error"), [c[1:] for c in LIMIT_CASES], ids=[c[0] for c in LIMIT_CASES])
def test_open_package_refuses_zip_over_limit(
    tmp_path: Path, staging_root: Path, limits: Limits, error: type[Exception]
) -> None:
    source = _write(tmp_path, "a.zip", _zipfile_bytes({**DOCS, "正卷/附件/扫描/1.pdf": b"x"}))
    before = source.read_bytes()
    with pytest.raises(error):
        open_package(source, staging_root, limits=limits)
    assert leftovers(staging_root) == []
    assert source.read_bytes() == before


def test_open_package_counts_real_bytes_against_package_limit(
    tmp_path: Path, staging_root: Path, craft: ModuleType
) -> None:
    # Headers declare 10 bytes each (under the limit); the real data is larger: refused while streaming.
    entries = [
        craft.Entry(f"{i}.pdf".encode(), bytes(300_000), method=craft.DEFLATED, file_size=10)
        for i in range(4)
    ]
    source = _write(tmp_path, "a.zip", craft.craft_zip(entries))
    with pytest.raises((intake.SizeMismatch, intake.PackageTooLarge)):
        open_package(source, staging_root, limits=Limits(package_bytes=100))
    assert leftovers(staging_root) == []
