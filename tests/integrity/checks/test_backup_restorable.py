"""BC-3-9 备份数据可恢复性检测 as a pure decision over the fact ``backup_restore``.

The fact is what :func:`archive.backup.sample_check.backup_restore_fact` gathers (tests/archive/backup
exercise it on real backups); here every verdict is pinned on plain values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from integrity.checks.manual import check_backup_restorable
from integrity.checks.model import CheckContext, ItemResult

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
A, B, C = "a" * 64, "b" * 64, "c" * 64
ROOT = "d" * 64


def _object(key: str = "blobs/sha256/aa/aa/" + A, **changes: Any) -> dict[str, Any]:
    return {
        "key": key,
        "size": 10,
        "expected_sha256": A,
        "found_sha256": A,
        "catalog_sha256": A,
        "code": None,
        **changes,
    }


def _fact(**changes: Any) -> dict[str, Any]:
    fact: dict[str, Any] = {
        "status": "checked",
        "backup_id": "20250601T000000.000000Z-abcdef",
        "created_at": "2025-06-01T00:00:00+00:00",
        "objects": [_object(), _object("aips/ED-1/v1/manifest.json", catalog_sha256=None)],
        "catalog": {
            "rows": 40,
            "rows_expected": 40,
            "tables_differing": [],
            "ledger_size": 3,
            "ledger_root": ROOT,
            "ledger_expected_size": 3,
            "ledger_expected_root": ROOT,
            "problems": [],
        },
        "dossier_in_backup": True,
    }
    fact.update(changes)
    return fact


def _check(fact: Any) -> ItemResult:
    facts = {} if fact is None else {"backup_restore": fact}
    return check_backup_restorable(CheckContext(stage="BC", now=NOW, facts=facts))


def test_every_sampled_object_matching_inventory_and_catalog_passes_with_evidence() -> None:
    result = _check(_fact())
    assert (result.item, result.status) == ("BC-3-9", "pass")
    assert result.evidence[0].found == "2/2 个一致"
    assert "20250601T000000.000000Z-abcdef" in result.evidence[0].read
    assert ROOT in result.evidence[1].expected and ROOT in result.evidence[1].found


@pytest.mark.parametrize(
    ("fact", "reason"),
    [
        (None, "未配置备份"),
        ({"status": "not_configured", "reason": "EDOSSIER_BACKUP__STORE 未设置"}, "未配置备份"),
        ({"status": "no_backup"}, "尚无完整备份"),
        ({"status": "unavailable", "reason": "s3 store could not list"}, "不构成检测结论"),
        (_fact(objects=[]), "没有可抽样恢复的对象"),
    ],
)
def test_without_a_restore_to_judge_the_item_is_not_run_never_pass(fact: Any, reason: str) -> None:
    result = _check(fact)
    assert result.status == "not_run" and reason in str(result.reason)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"objects": [_object(found_sha256=B, code="object_digest_mismatch")]}, "backup_object_mismatch"),
        ({"objects": [_object(found_sha256=B)]}, "backup_object_mismatch"),
        ({"objects": [_object(found_sha256=None, code="object_missing")]}, "backup_object_missing"),
        ({"objects": [_object(catalog_sha256=C)]}, "backup_catalog_mismatch"),
        (
            {"corrupt": {"code": "backup_corrupt", "message": "inventory.json: expected …", "path": "x"}},
            "backup_corrupt",
        ),
    ],
)
def test_a_restored_object_that_differs_or_a_corrupt_part_fails(changes: dict[str, Any], code: str) -> None:
    result = _check(_fact(**changes))
    assert result.status == "fail"
    assert [p.code for p in result.problems] == [code]
    assert all(p.item == "BC-3-9" for p in result.problems)


def test_mismatch_message_names_the_key_and_both_digests() -> None:
    key = "blobs/sha256/aa/aa/" + A
    [problem] = _check(_fact(objects=[_object(key, found_sha256=B)])).problems
    assert problem.path == key and A in problem.message and B in problem.message


@pytest.mark.parametrize(
    ("catalog", "code"),
    [
        ({"rows": 39}, "backup_catalog_rows"),
        ({"ledger_root": "e" * 64}, "backup_ledger_mismatch"),
        ({"ledger_size": 2}, "backup_ledger_mismatch"),
        ({"problems": ["ledger_leaves: expected leaf index 1, found 2"]}, "backup_catalog_dump"),
    ],
)
def test_a_catalog_dump_that_does_not_match_backup_json_fails(catalog: dict[str, Any], code: str) -> None:
    fact = _fact()
    fact["catalog"] = {**fact["catalog"], **catalog}
    result = _check(fact)
    assert result.status == "fail" and code in [p.code for p in result.problems]


def test_a_dossier_not_yet_in_the_latest_backup_is_a_warning_not_a_pass() -> None:
    result = _check(_fact(dossier_in_backup=False))
    assert result.status == "warn" and "edossier backup" in result.summary
