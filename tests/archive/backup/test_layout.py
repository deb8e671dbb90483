"""The pure rules of a backup: ids, which backups are complete, which key files are public, what to copy."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from archive.backup.errors import BackupCorrupt
from archive.backup.layout import (
    BackupManifest,
    InventoryEntry,
    LedgerState,
    PartDigest,
    choose_sample,
    complete_backups,
    incomplete_backups,
    inventory_bytes,
    is_archive_object,
    is_public_key_file,
    new_backup_id,
    parse_inventory,
    parse_manifest,
    part_key,
    plan_object,
)

NOW = dt.datetime(2025, 3, 1, 9, 30, 5, tzinfo=dt.UTC)
A, B = "a" * 64, "b" * 64


def _manifest() -> BackupManifest:
    return BackupManifest(
        backup_id="20250301T093005.000000Z-abcdef",
        created_at=NOW,
        schema="0009",
        ledger_origin="court.example/log",
        ledger=LedgerState(3, A, 3, A),
        rows={"dossiers": 2, "blobs": 7},
        objects=9,
        object_bytes=1234,
        copied=9,
        parts={"catalog.jsonl.gz": PartDigest(10, A), "inventory.json": PartDigest(20, B)},
        source_store="fs",
        tool_version="0.1",
        problems=({"code": "object_missing", "key": "blobs/x", "message": "m"},),
    )


def test_backup_ids_sort_by_time_and_reject_naive_time_or_bad_token() -> None:
    earlier = new_backup_id(NOW, "ffffff")
    later = new_backup_id(NOW + dt.timedelta(microseconds=1), "000000")  # later wins whatever the token
    assert earlier == "20250301T093005.000000Z-ffffff" and sorted([later, earlier]) == [earlier, later]
    with pytest.raises(ValueError, match="timezone-aware"):
        new_backup_id(NOW.replace(tzinfo=None), "abcdef")
    with pytest.raises(ValueError, match="token"):
        new_backup_id(NOW, "../x")
    with pytest.raises(ValueError, match="backup id"):
        part_key("latest", "backup.json")


def test_only_backups_with_backup_json_are_complete() -> None:
    keys = [
        "backups/20250301T093005.000000Z-aaaaaa/catalog.jsonl.gz",
        "backups/20250301T093005.000000Z-aaaaaa/backup.json",
        "backups/20250302T000000.000000Z-bbbbbb/catalog.jsonl.gz",  # interrupted: no backup.json
        "backups/not-an-id/backup.json",
        "blobs/sha256/aa/bb/" + A,
    ]
    assert complete_backups(keys) == ["20250301T093005.000000Z-aaaaaa"]
    assert incomplete_backups(keys) == ["20250302T000000.000000Z-bbbbbb"]


@pytest.mark.parametrize(
    ("name", "text", "public"),
    [
        ("edossier.pub", "edossier+01020304+AQID", True),
        ("edossier.pub.01020304.retired", "edossier+01020304+AQID", True),
        ("edossier-eep.eep.crt", "-----BEGIN CERTIFICATE-----", True),
        ("edossier.key", "PRIVATE+KEY+edossier+01020304+AQID", False),
        ("edossier.key.01020304.retired", "PRIVATE+KEY+edossier+01020304+AQID", False),
        ("edossier-eep.eep.key", "-----BEGIN PRIVATE KEY-----", False),
        ("renamed.pub", "PRIVATE+KEY+edossier+01020304+AQID", False),  # a secret whatever its name
        ("bundle.cert.pem", "-----BEGIN CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----", False),
        ("edossier.pub.01020304.new", "edossier+01020304+AQID", False),  # staged by a rotation, not live
        ("notes.txt", "hello", False),
    ],
)
def test_only_public_key_files_go_into_a_backup(name: str, text: str, public: bool) -> None:
    assert is_public_key_file(name, text) is public


def test_probe_canaries_and_backup_parts_are_not_archive_objects() -> None:
    assert is_archive_object("blobs/sha256/aa/bb/" + A)
    assert is_archive_object("aips/ED-1/v1/manifest.json")
    assert not is_archive_object("probe/worm-1")
    assert not is_archive_object("backups/20250301T093005.000000Z-aaaaaa/backup.json")


def test_plan_copies_absent_objects_skips_verified_ones_and_compares_the_rest() -> None:
    verified = InventoryEntry("k", 3, A)
    assert plan_object(size=3, present_size=None, previous=verified, expected_sha256=A) == "copy"
    assert plan_object(size=3, present_size=3, previous=verified, expected_sha256=A) == "skip"
    assert plan_object(size=3, present_size=3, previous=verified, expected_sha256=None) == "skip"
    # present but never verified by a backup, or verified with another digest or size: read and compare
    assert plan_object(size=3, present_size=3, previous=None, expected_sha256=A) == "verify"
    assert plan_object(size=3, present_size=3, previous=verified, expected_sha256=B) == "verify"
    assert plan_object(size=4, present_size=3, previous=verified, expected_sha256=A) == "verify"


def test_sample_takes_the_dossiers_own_objects_first_then_a_reproducible_spread() -> None:
    available = [f"k{i:02d}" for i in range(30)]
    sample = choose_sample(available, ["k07", "missing", "k03", "k07"], 5, "backup/dossier")
    assert sample[:2] == ["k07", "k03"] and len(sample) == len(set(sample)) == 5
    assert set(sample) <= set(available)
    assert choose_sample(available, ["k07", "k03"], 5, "backup/dossier") == sample  # same seed, same sample
    assert sorted(choose_sample(available, [], 50, "s")) == available  # never more than there is
    assert choose_sample(available, ["k01"], 0, "s") == []


def test_manifest_round_trips_through_backup_json() -> None:
    manifest = _manifest()
    again = parse_manifest(manifest.to_bytes(), manifest.backup_id)
    assert again == manifest
    assert json.loads(manifest.to_bytes())["ledger"]["hash"] == "sha256"


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.update(format="other/1"), "format"),
        (lambda d: d.update(backup_id="20250301T093005.000000Z-000000"), "backup_id"),
        (lambda d: d["parts"]["inventory.json"].update(sha256="XYZ"), "sha256"),
        (lambda d: d.pop("ledger"), "unreadable"),
    ],
)
def test_malformed_backup_json_is_corrupt(mutate, match) -> None:
    manifest = _manifest()
    doc = json.loads(manifest.to_bytes())
    mutate(doc)
    with pytest.raises(BackupCorrupt, match=match):
        parse_manifest(json.dumps(doc).encode(), manifest.backup_id)
    with pytest.raises(BackupCorrupt):
        parse_manifest(b"{not json", manifest.backup_id)


def test_inventory_round_trips_and_rejects_another_backups_inventory() -> None:
    entries = [InventoryEntry("blobs/b", 2, B), InventoryEntry("aips/ED-1/v1/目录文件.xml", 1, A)]
    data = inventory_bytes("20250301T093005.000000Z-abcdef", entries)
    assert parse_inventory(data, "20250301T093005.000000Z-abcdef") == {e.key: e for e in entries}
    with pytest.raises(BackupCorrupt, match="backup_id"):
        parse_inventory(data, "20250301T093005.000000Z-000000")
    with pytest.raises(BackupCorrupt):
        parse_inventory(data.replace(B.encode(), b"nothex"), "20250301T093005.000000Z-abcdef")
