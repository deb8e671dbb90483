"""BC-3-9 on real backups: the fact a full audit gathers, and the item's verdict in the audit.

The fact restores a sample of the latest backup into a scratch folder and re-hashes it; these tests tamper
with the backup behind the store's back and check that the item fails naming the key, and that no backup
(or none configured) is ``not_run`` — never a pass.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from archive.backup.create import create_backup
from archive.backup.layout import INVENTORY, part_key
from archive.backup.sample_check import backup_restore_fact
from archive.catalog.models import Dossier
from archive.settings import BackupSettings, S3Settings
from integrity.audit.runner import run_audit
from integrity.checks.manual import check_backup_restorable
from integrity.checks.model import CheckContext, ItemResult
from tests.archive.backup.conftest import MakeInstallation, backup_store_of
from tests.support.s3 import free_port

NOW = dt.datetime.now(dt.UTC)


def _dossiers(inst) -> list[Dossier]:
    with inst.sessions() as session:
        return list(session.scalars(select(Dossier).order_by(Dossier.archive_id)))


def _verdict(inst, dossier: Dossier) -> tuple[dict, ItemResult]:
    fact = backup_restore_fact(inst.settings, inst.sessions, dossier, NOW)
    return fact, check_backup_restorable(CheckContext(stage="BC", now=NOW, facts={"backup_restore": fact}))


def _scratch_left(inst) -> list[Path]:
    return list(inst.settings.staging_dir.glob("backup-check-*"))


def test_a_sound_backup_passes_with_the_dossiers_own_objects_in_the_sample(
    make_installation: MakeInstallation,
) -> None:
    inst = make_installation(dossiers=2, backup=None)
    create_backup(inst.settings, inst.engine, inst.store, backup_store_of(inst), NOW, tool_version="t")
    dossier = _dossiers(inst)[0]
    fact, result = _verdict(inst, dossier)
    assert result.status == "pass", result.as_dict()
    sampled = [o["key"] for o in fact["objects"]]
    assert len(sampled) == 18  # sample_objects (20) is more than the backup holds
    assert sampled[0] == dossier.manifest_key and fact["dossier_in_backup"] is True
    assert all(o["found_sha256"] == o["expected_sha256"] for o in fact["objects"])
    assert fact["objects"][0]["catalog_sha256"] == dossier.manifest_sha256
    assert fact["catalog"]["rows"] == fact["catalog"]["rows_expected"] > 0
    assert result.evidence[0].found == "18/18 个一致"
    assert _scratch_left(inst) == []


def test_sample_size_follows_the_setting(make_installation: MakeInstallation, tmp_path: Path) -> None:
    (tmp_path / "bk").mkdir()
    inst = make_installation(
        dossiers=2, backup=BackupSettings(store="fs", path=tmp_path / "bk", sample_objects=3)
    )
    create_backup(inst.settings, inst.engine, inst.store, backup_store_of(inst), NOW, tool_version="t")
    fact, result = _verdict(inst, _dossiers(inst)[1])
    assert len(fact["objects"]) == 3 and result.status == "pass"


def test_a_tampered_backup_object_fails_naming_the_key(make_installation: MakeInstallation) -> None:
    inst = make_installation(dossiers=1, backup=None)
    create_backup(inst.settings, inst.engine, inst.store, backup_store_of(inst), NOW, tool_version="t")
    dossier = _dossiers(inst)[0]
    copy = Path(inst.settings.backup.path) / dossier.manifest_key
    copy.chmod(0o600)
    copy.write_bytes(copy.read_bytes().replace(b"{", b"[", 1))
    _, result = _verdict(inst, dossier)
    assert result.status == "fail"
    [problem] = result.problems
    assert (problem.code, problem.path, problem.item) == (
        "backup_object_mismatch",
        dossier.manifest_key,
        "BC-3-9",
    )
    assert dossier.manifest_sha256 in problem.message


def test_a_backup_whose_inventory_was_changed_fails_as_corrupt(make_installation: MakeInstallation) -> None:
    inst = make_installation(dossiers=1, backup=None)
    manifest = create_backup(
        inst.settings, inst.engine, inst.store, backup_store_of(inst), NOW, tool_version="t"
    )
    inventory = Path(inst.settings.backup.path) / part_key(manifest.backup_id, INVENTORY)
    inventory.chmod(0o600)
    inventory.write_bytes(inventory.read_bytes() + b" ")
    fact, result = _verdict(inst, _dossiers(inst)[0])
    assert result.status == "fail" and fact["corrupt"]["code"] == "backup_corrupt"
    assert part_key(manifest.backup_id, INVENTORY) in result.problems[0].message


def test_a_dossier_archived_after_the_latest_backup_is_a_warning(
    make_installation: MakeInstallation, backup_samples: list[Path]
) -> None:
    inst = make_installation(dossiers=1, backup=None)
    create_backup(inst.settings, inst.engine, inst.store, backup_store_of(inst), NOW, tool_version="t")
    assert inst.ingest_service().ingest(backup_samples[1]).status == "archived"
    newest = max(_dossiers(inst), key=lambda d: d.leaf_index)
    fact, result = _verdict(inst, newest)
    assert fact["dossier_in_backup"] is False and result.status == "warn"


def test_no_backup_store_or_no_backup_yet_is_not_run(
    make_installation: MakeInstallation, tmp_path: Path
) -> None:
    unconfigured = make_installation(dossiers=1, backup=BackupSettings(), name="plain")
    fact, result = _verdict(unconfigured, _dossiers(unconfigured)[0])
    assert (
        fact["status"] == "not_configured"
        and result.status == "not_run"
        and "未配置备份" in str(result.reason)
    )
    empty = make_installation(
        dossiers=1, backup=BackupSettings(store="fs", path=tmp_path / "none"), name="empty"
    )
    fact, result = _verdict(empty, _dossiers(empty)[0])
    assert (
        fact["status"] == "no_backup"
        and result.status == "not_run"
        and "edossier backup" in str(result.reason)
    )


def test_an_unreachable_backup_store_is_not_run_not_a_failure(make_installation: MakeInstallation) -> None:
    nobody = S3Settings(endpoint=f"127.0.0.1:{free_port()}", access_key="k", secret_key="s", bucket="backups")
    inst = make_installation(dossiers=1, backup=BackupSettings(store="s3", s3=nobody))
    fact, result = _verdict(inst, _dossiers(inst)[0])
    assert fact["status"] == "unavailable" and result.status == "not_run"
    assert "不构成检测结论" in str(result.reason)
    assert _scratch_left(inst) == []


def test_full_audit_answers_bc_3_9_from_the_latest_backup(make_installation: MakeInstallation) -> None:
    inst = make_installation(dossiers=1, backup=None)
    create_backup(inst.settings, inst.engine, inst.store, backup_store_of(inst), NOW, tool_version="t")
    summary = run_audit(inst, "full", NOW)
    [item] = [r for r in summary.results if r.check == "BC-3-9"]
    assert item.outcome == "ok" and item.evidence["status"] == "pass", item.evidence
    assert summary.status == "passed"
    assert _scratch_left(inst) == []
