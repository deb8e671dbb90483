"""Key rules and the archive's key layout."""

from __future__ import annotations

import pytest

from archive.stores import InvalidKey, aip_file_key, blob_key, manifest_key, validate_key

SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_blob_key_fans_out_by_two_hex_levels() -> None:
    assert blob_key(SHA) == f"blobs/sha256/e3/b0/{SHA}"


@pytest.mark.parametrize("bad", ["", SHA.upper(), SHA[:-1], SHA + "0", "g" * 64, "../" + SHA[3:]])
def test_blob_key_rejects_non_sha256_hex(bad: str) -> None:
    with pytest.raises(InvalidKey):
        blob_key(bad)


def test_manifest_and_aip_file_keys_share_a_version_folder() -> None:
    assert manifest_key("J001-2024-永久-0001", 2) == "aips/J001-2024-永久-0001/v2/manifest.json"
    expected = "aips/J001-2024-永久-0001/v2/元数据/0001.xml"
    assert aip_file_key("J001-2024-永久-0001", 2, "元数据/0001.xml") == expected


@pytest.mark.parametrize(
    ("archive_id", "version", "name"),
    [
        ("a/b", 1, "x"), ("", 1, "x"), ("..", 1, "x"), ("A", 0, "x"),
        ("A", True, "x"), ("A", 1, "../x"), ("A", 1, ""),
    ],
)
def test_aip_keys_reject_bad_parts(archive_id: str, version: int, name: str) -> None:
    with pytest.raises(InvalidKey):
        aip_file_key(archive_id, version, name)


def test_validate_key_accepts_1024_byte_key() -> None:
    key = "k" * 1024
    assert validate_key(key) == key
