"""The contract every ObjectStore backend keeps (run over fs, memory and s3)."""

from __future__ import annotations

import ast
import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.stores import (
    ChecksumMismatch,
    InvalidKey,
    ObjectConflict,
    ObjectNotFound,
    ObjectStore,
    blob_key,
)

VECTORS = Path(__file__).parent / "vectors"


def _invalid_keys() -> list[str]:
    lines = (VECTORS / "invalid_keys.txt").read_text(encoding="utf-8").splitlines()
    return [eval(line, {"__builtins__": {}}) if "*" in line else ast.literal_eval(line)
            for line in lines if line and not line.startswith("#")]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(store: ObjectStore, key: str) -> bytes:
    with store.open(key) as stream:
        return stream.read()


def _write(tmp_path: Path, data: bytes, name: str = "src.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_file_then_stat_and_open_round_trip(store: ObjectStore, tmp_path: Path) -> None:
    data = b"\xe7\x94\xb5\xe5\xad\x90\xe5\x8d\xb7\xe5\xae\x97 e-dossier" * 100
    key = blob_key(_sha(data))
    result = store.put_file(key, _write(tmp_path, data), sha256=_sha(data), size=len(data))
    assert result.created
    assert result.key == key
    info = store.stat(key)
    assert info.key == key
    assert info.size == len(data)
    assert info.sha256 in (None, _sha(data))
    assert store.exists(key)
    assert _read(store, key) == data


def test_put_bytes_round_trip_with_unicode_key(store: ObjectStore) -> None:
    key = "aips/J001-2024-永久-0001/v1/说明文件.xml"
    assert store.put_bytes(key, b"<xml/>").created
    assert _read(store, key) == b"<xml/>"


def test_put_of_identical_content_is_idempotent(store: ObjectStore, tmp_path: Path) -> None:
    data = b"same bytes"
    key = blob_key(_sha(data))
    assert store.put_bytes(key, data).created
    again = store.put_file(key, _write(tmp_path, data), sha256=_sha(data), size=len(data))
    assert again.created is False
    assert store.put_bytes(key, data).created is False
    assert _read(store, key) == data


@pytest.mark.parametrize("other", [b"different!", b"longer different bytes"])
def test_put_rejects_different_content_under_existing_key(
    store: ObjectStore, tmp_path: Path, other: bytes
) -> None:
    key = "aips/A1/v1/manifest.json"
    store.put_bytes(key, b"original!!")
    with pytest.raises(ObjectConflict):
        store.put_bytes(key, other)
    with pytest.raises(ObjectConflict):
        store.put_file(key, _write(tmp_path, other), sha256=_sha(other), size=len(other))
    assert _read(store, key) == b"original!!"


@pytest.mark.parametrize(
    ("declared_sha", "declared_size"),
    [
        pytest.param(_sha(b"something else"), 13, id="wrong-sha256"),
        pytest.param(_sha(b"payload bytes"), 12, id="size-too-small"),
        pytest.param(_sha(b"payload bytes"), 14, id="size-too-large"),
    ],
)
def test_put_file_checksum_mismatch_leaves_nothing(
    store: ObjectStore, tmp_path: Path, declared_sha: str, declared_size: int
) -> None:
    key = "aips/A2/v1/payload.bin"
    with pytest.raises(ChecksumMismatch):
        store.put_file(key, _write(tmp_path, b"payload bytes"), sha256=declared_sha, size=declared_size)
    assert not store.exists(key)
    assert list(store.iter_objects("aips/A2/")) == []
    with pytest.raises(ObjectNotFound):
        store.stat(key)


def test_missing_object_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.stat("blobs/none")
    with pytest.raises(ObjectNotFound), store.open("blobs/none") as stream:
        stream.read()
    assert store.exists("blobs/none") is False


@pytest.mark.parametrize("key", _invalid_keys())
def test_invalid_keys_are_rejected_everywhere(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put_bytes(key, b"x")
    with pytest.raises(InvalidKey):
        store.stat(key)
    with pytest.raises(InvalidKey):
        store.exists(key)


def test_iter_objects_lists_only_the_prefix(store: ObjectStore) -> None:
    keys = ["aips/A/v1/manifest.json", "aips/A/v1/元数据/0001.xml", "aips/AB/v1/manifest.json", "blobs/x"]
    for key in keys:
        store.put_bytes(key, key.encode())
    found = {info.key: info.size for info in store.iter_objects("aips/A/")}
    assert found == {k: len(k.encode()) for k in keys[:2]}
    assert {info.key for info in store.iter_objects("aips/A")} == set(keys[:3])
    assert {info.key for info in store.iter_objects()} == set(keys)


def test_large_object_streams_back_intact(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(12 * 1024 * 1024 + 7)
    key = blob_key(_sha(data))
    store.put_file(key, _write(tmp_path, data), sha256=_sha(data), size=len(data))
    digest = hashlib.sha256()
    total = 0
    with store.open(key) as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
            total += len(chunk)
    assert total == len(data)
    assert digest.hexdigest() == _sha(data)
    assert store.stat(key).size == len(data)


def test_retain_until_is_kept_where_the_backend_supports_retention(store: ObjectStore) -> None:
    until = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    store.put_bytes("aips/R/v1/manifest.json", b"{}", retain_until=until)
    info = store.stat("aips/R/v1/manifest.json")
    if store.name == "fs":  # documented: fs has no retention, the catalog enforces it
        assert info.retain_until is None
    else:
        assert info.retain_until == until
        assert info.retention_mode == "COMPLIANCE"


def test_naive_retain_until_is_a_caller_error(store: ObjectStore) -> None:
    with pytest.raises(ValueError, match="timezone"):
        store.put_bytes("aips/N/v1/manifest.json", b"{}", retain_until=datetime(2100, 1, 1))


def test_empty_object_round_trips(store: ObjectStore, tmp_path: Path) -> None:
    key = blob_key(_sha(b""))
    assert store.put_file(key, _write(tmp_path, b""), sha256=_sha(b""), size=0).created
    assert _read(store, key) == b""
    assert store.stat(key).size == 0


def test_check_ready_passes_on_a_prepared_store(store: ObjectStore) -> None:
    store.check_ready()


def test_adopt_file_stores_a_staging_file_that_outlives_its_staging_name(
    store: ObjectStore, tmp_path: Path
) -> None:
    data = b"staged while hashed " * 1000
    staged = _write(tmp_path, data, "staged.bin")
    key = blob_key(_sha(data))

    assert store.adopt_file(key, staged, sha256=_sha(data), size=len(data)).created
    staged.unlink()  # ingest removes its staging folder afterwards

    assert _read(store, key) == data
    assert not store.adopt_file(key, _write(tmp_path, data, "again.bin"), sha256=_sha(data), size=len(data)).created


def test_adopt_file_of_wrong_size_leaves_nothing(store: ObjectStore, tmp_path: Path) -> None:
    data = b"short"
    key = blob_key(_sha(data + b"!"))
    with pytest.raises(ChecksumMismatch):
        store.adopt_file(key, _write(tmp_path, data), sha256=_sha(data + b"!"), size=len(data) + 1)
    assert not store.exists(key)
