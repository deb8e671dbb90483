"""open_package on folders: copies and hashes, refuses links and special files, never changes the input."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest

import archive.intake as intake
from archive.intake import open_package
from standards.limits import Limits
from tests.archive.intake.intake_helpers import leftovers, tree_digest

DOCS = {
    "正卷/0001-起诉状.pdf": b"%PDF-1.7 complaint\n" * 100,
    "副卷/0001-评议笔录.pdf": os.urandom(300_000),
    "说明文件.xml": b"<x/>",
}


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _refuse(source: Path, staging_root: Path, error: type[Exception], limits: Limits | None = None) -> None:
    before = tree_digest(source)
    with pytest.raises(error):
        open_package(source, staging_root, limits=limits or Limits())
    assert leftovers(staging_root) == []
    assert tree_digest(source) == before


def test_open_package_stages_folder_with_digests(tmp_path: Path, staging_root: Path) -> None:
    source = _folder(tmp_path / "case", DOCS)
    before = tree_digest(source)
    pkg = open_package(source, staging_root, limits=Limits())
    assert pkg.source_kind == "folder"
    assert sorted(f.path for f in pkg.files) == sorted(DOCS)
    for name, data in DOCS.items():
        staged = pkg.get(name)
        assert staged is not None
        assert staged.digests["sha256"] == hashlib.sha256(data).hexdigest()
        assert staged.digests["sm3"] == hashlib.new("sm3", data).hexdigest()
        assert pkg.read_bytes(name) == data
    assert tree_digest(source) == before


def test_open_package_folder_digest_is_sha256_of_sorted_inventory(tmp_path: Path, staging_root: Path) -> None:
    pkg = open_package(_folder(tmp_path / "case", DOCS), staging_root, limits=Limits())
    lines = sorted(f"{p}\t{len(d)}\t{hashlib.sha256(d).hexdigest()}\n" for p, d in DOCS.items())
    assert pkg.source_digest == hashlib.sha256("".join(lines).encode()).hexdigest()


def test_open_package_strips_wrapping_folder(tmp_path: Path, staging_root: Path) -> None:
    wrapped = {f"(2023)京0105民初123号/{k}": v for k, v in DOCS.items() if k != "说明文件.xml"}
    pkg = open_package(_folder(tmp_path / "upload", wrapped), staging_root, limits=Limits())
    assert sorted(f.path for f in pkg.files) == sorted(k for k in DOCS if k != "说明文件.xml")


def test_open_package_refuses_symlinked_file(tmp_path: Path, staging_root: Path) -> None:
    source = _folder(tmp_path / "case", DOCS)
    (tmp_path / "secret").write_bytes(b"secret")
    (source / "正卷" / "link.pdf").symlink_to(tmp_path / "secret")
    _refuse(source, staging_root, intake.SymlinkEntry)


def test_open_package_refuses_symlinked_folder(tmp_path: Path, staging_root: Path) -> None:
    source = _folder(tmp_path / "case", DOCS)
    outside = _folder(tmp_path / "outside", {"x.pdf": b"x"})
    (source / "副卷" / "more").symlink_to(outside, target_is_directory=True)
    _refuse(source, staging_root, intake.SymlinkEntry)


def test_open_package_refuses_symlink_as_source_folder(tmp_path: Path, staging_root: Path) -> None:
    real = _folder(tmp_path / "case", DOCS)
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    _refuse(tmp_path / "alias", staging_root, intake.SymlinkEntry)


def test_open_package_refuses_fifo(tmp_path: Path, staging_root: Path) -> None:
    source = _folder(tmp_path / "case", DOCS)
    os.mkfifo(source / "pipe.pdf")
    _refuse(source, staging_root, intake.SpecialFileEntry)


def test_open_package_refuses_socket(tmp_path: Path, staging_root: Path) -> None:
    source = _folder(tmp_path / "c", DOCS)
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(source / "s"))
        _refuse(source, staging_root, intake.SpecialFileEntry)
    finally:
        sock.close()


def test_open_package_refuses_empty_folder(tmp_path: Path, staging_root: Path) -> None:
    source = tmp_path / "case"
    (source / "正卷").mkdir(parents=True)
    _refuse(source, staging_root, intake.EmptyPackage)


def test_open_package_refuses_backslash_parent_in_folder_name(tmp_path: Path, staging_root: Path) -> None:
    source = _folder(tmp_path / "case", {**DOCS, "..\\x.pdf": b"x"})
    _refuse(source, staging_root, intake.ParentSegment)


def test_open_package_refuses_control_character_in_folder_name(tmp_path: Path, staging_root: Path) -> None:
    source = _folder(tmp_path / "case", {**DOCS, "a\x1b[31m.pdf": b"x"})
    _refuse(source, staging_root, intake.ControlCharacterInName)


def test_open_package_refuses_undecodable_folder_name(tmp_path: Path, staging_root: Path) -> None:
    source = _folder(tmp_path / "case", DOCS)
    with open(os.fsencode(source) + b"/\xff\xfe.pdf", "wb") as fh:
        fh.write(b"x")
    _refuse(source, staging_root, intake.UndecodableName)


def test_open_package_refuses_case_collision_in_folder(tmp_path: Path, staging_root: Path) -> None:
    source = _folder(tmp_path / "case", {**DOCS, "Scan.pdf": b"1", "scan.pdf": b"2"})
    _refuse(source, staging_root, intake.CaseCollision)


def test_open_package_refuses_folder_over_file_count(tmp_path: Path, staging_root: Path) -> None:
    _refuse(_folder(tmp_path / "case", DOCS), staging_root, intake.TooManyFiles, Limits(file_count=2))


def test_open_package_refuses_folder_file_over_size_limit(tmp_path: Path, staging_root: Path) -> None:
    _refuse(_folder(tmp_path / "case", DOCS), staging_root, intake.FileTooLarge, Limits(file_bytes=1000))


def test_open_package_refuses_deep_folder_while_walking(tmp_path: Path, staging_root: Path) -> None:
    deep = "/".join(["d"] * 6) + "/x.pdf"
    _refuse(
        _folder(tmp_path / "case", {**DOCS, deep: b"x"}),
        staging_root,
        intake.PathTooDeep,
        Limits(path_depth=3),
    )
