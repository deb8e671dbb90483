"""Filesystem backend behaviour beyond the contract: read-only files, temp files, races, outages."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from archive.settings import Settings
from archive.stores import ChecksumMismatch, FsStore, ObjectConflict, StoreUnavailable, open_store


def _store(tmp_path: Path) -> FsStore:
    store = FsStore(tmp_path / "objects")
    store.ensure_root()
    return store


def test_published_files_are_read_only(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put_bytes("blobs/a", b"abc")
    mode = stat.S_IMODE((tmp_path / "objects" / "blobs" / "a").stat().st_mode)
    assert mode == 0o444


def test_put_file_copies_so_later_writes_to_source_do_not_change_object(tmp_path: Path) -> None:
    store = _store(tmp_path)
    src = tmp_path / "staging.bin"
    src.write_bytes(b"original")
    store.put_file("blobs/s", src, sha256=hashlib.sha256(b"original").hexdigest(), size=8)
    src.write_bytes(b"changed!")
    with store.open("blobs/s") as stream:
        assert stream.read() == b"original"


def test_failed_put_leaves_no_temp_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    src = tmp_path / "s.bin"
    src.write_bytes(b"abc")
    with pytest.raises(ChecksumMismatch):
        store.put_file("blobs/t", src, sha256="0" * 64, size=3)
    assert list((tmp_path / "objects" / ".tmp").iterdir()) == []


def test_iter_objects_skips_temp_files(tmp_path: Path) -> None:
    store = _store(tmp_path)
    (tmp_path / "objects" / ".tmp" / "put-leftover").write_bytes(b"crash leftover")
    store.put_bytes("blobs/a", b"abc")
    assert [info.key for info in store.iter_objects()] == ["blobs/a"]


def test_lost_link_race_with_other_content_is_a_conflict(tmp_path: Path) -> None:
    store = _store(tmp_path)
    # Simulate another writer publishing between our existence check and our link: the object
    # appears only after put starts writing, so os.link meets FileExistsError.
    src = tmp_path / "race.bin"
    src.write_bytes(b"mine")
    final = tmp_path / "objects" / "blobs" / "r"

    class RacingReader:
        def __init__(self) -> None:
            self._fh = src.open("rb")

        def read(self, n: int = -1) -> bytes:
            data = self._fh.read(n)
            if not data and not final.exists():
                final.parent.mkdir(parents=True, exist_ok=True)
                final.write_bytes(b"ther")
            return data

    from archive.stores.base import HashingReader

    reader = HashingReader(RacingReader(), key="blobs/r", size=4, sha256=hashlib.sha256(b"mine").hexdigest())  # type: ignore[arg-type]
    with pytest.raises(ObjectConflict):
        store._write("blobs/r", final, reader, 4, hashlib.sha256(b"mine").hexdigest())
    assert final.read_bytes() == b"ther"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_root_is_unavailable(tmp_path: Path) -> None:
    store = _store(tmp_path)
    (tmp_path / "objects").chmod(0o555)
    try:
        with pytest.raises(StoreUnavailable):
            store.check_ready()
    finally:
        (tmp_path / "objects").chmod(0o755)


def test_check_ready_reports_missing_root(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="expected a folder"):
        FsStore(tmp_path / "nowhere").check_ready()


def test_open_store_prepares_fs_under_data_dir(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path, store="fs"), prepare=True)
    assert store.name == "fs"
    store.check_ready()
    assert (tmp_path / "objects" / ".tmp").is_dir()


def test_adopted_object_is_read_only_and_not_a_copy(tmp_path: Path) -> None:
    """adopt_file takes the staging file over (one write of the bytes in the whole ingest)."""
    import hashlib

    from archive.stores import FsStore, blob_key

    store = FsStore(tmp_path / "objects")
    store.ensure_root()
    staged = tmp_path / "staged.bin"
    staged.write_bytes(b"x" * 4096)
    digest = hashlib.sha256(staged.read_bytes()).hexdigest()
    store.adopt_file(blob_key(digest), staged, sha256=digest, size=4096)
    final = store.root.joinpath(*blob_key(digest).split("/"))
    assert final.stat().st_ino == staged.stat().st_ino
    assert final.stat().st_mode & 0o777 == 0o444
