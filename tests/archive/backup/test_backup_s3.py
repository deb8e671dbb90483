"""An S3 bucket (moto_server) as the backup store: objects keep their Object Lock, restore verifies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archive.backup.create import create_backup
from archive.backup.errors import BackupStoreIsMainStore
from archive.backup.restore import restore_backup
from archive.backup.sample_check import backup_restore_fact
from archive.backup.store import open_backup_store
from archive.catalog.models import Dossier
from archive.settings import BackupSettings, S3Settings, Settings
from archive.stores import open_store
from integrity.checks.manual import check_backup_restorable
from integrity.checks.model import CheckContext
from tests.archive.backup.conftest import MakeInstallation, target_settings

pytestmark = pytest.mark.s3
NOW = dt.datetime.now(dt.UTC)


def _s3(endpoint: str, bucket: str) -> S3Settings:
    return S3Settings(
        endpoint=endpoint, access_key="test", secret_key="test", bucket=bucket, object_lock=True
    )


def test_backup_to_an_s3_bucket_locks_objects_and_restores_verified(
    make_installation: MakeInstallation, s3_endpoint: str, unique_bucket: str, tmp_path: Path
) -> None:
    inst = make_installation(
        dossiers=1, backup=BackupSettings(store="s3", s3=_s3(s3_endpoint, unique_bucket))
    )
    store = open_backup_store(inst.settings, prepare=True)
    first = create_backup(inst.settings, inst.engine, inst.store, store, NOW, tool_version="t")
    later = NOW + dt.timedelta(microseconds=1)
    again = create_backup(inst.settings, inst.engine, inst.store, store, later, tool_version="t")
    assert (first.copied, again.copied, again.objects) == (9, 0, 9) and again.problems == ()

    with inst.sessions() as session:
        manifest_key = session.query(Dossier.manifest_key).scalar()
    info = store.stat(manifest_key)
    assert info.retention_mode == "COMPLIANCE" and info.retain_until is not None and info.retain_until > NOW
    assert info.sha256 is not None  # the S3 store keeps the verified digest as metadata

    report = restore_backup(store, "latest", target_settings(inst, tmp_path / "restored"), NOW)
    assert report.verified, report.as_dict()
    assert report.objects_restored == 9 and report.backup_id == again.backup_id

    with inst.sessions() as session:
        dossier = session.query(Dossier).one()
    fact = backup_restore_fact(inst.settings, inst.sessions, dossier, NOW)
    result = check_backup_restorable(CheckContext(stage="BC", now=NOW, facts={"backup_restore": fact}))
    assert result.status == "pass", result.as_dict()


def test_restore_into_an_s3_bucket_locks_each_object_as_the_restored_catalog_requires(
    make_installation: MakeInstallation, s3_endpoint: str, unique_bucket: str, tmp_path: Path
) -> None:
    inst = make_installation(dossiers=1)  # fs backup store
    store = open_backup_store(inst.settings, prepare=True)
    create_backup(inst.settings, inst.engine, inst.store, store, NOW, tool_version="t")
    target = target_settings(inst, tmp_path / "restored", store="s3", s3=_s3(s3_endpoint, unique_bucket))
    report = restore_backup(store, "latest", target, NOW)
    assert report.verified, report.as_dict()
    assert report.target_store == f"s3:{unique_bucket}"
    with inst.sessions() as session:
        dossier = session.query(Dossier).one()
    info = open_store(target).stat(dossier.manifest_key)
    assert info.retention_mode == "COMPLIANCE" and info.retain_until is not None
    assert info.retain_until.year >= dossier.archived_at.year + 30  # the dossier's 保管期限, not a default


def test_the_main_bucket_is_refused_as_backup_store(s3_endpoint: str, unique_bucket: str) -> None:
    main = _s3(s3_endpoint, unique_bucket)
    settings = Settings(store="s3", s3=main, backup=BackupSettings(store="s3", s3=main))
    with pytest.raises(BackupStoreIsMainStore, match=unique_bucket):
        open_backup_store(settings)
