"""Backups are dialect-neutral: PostgreSQL → SQLite and SQLite → PostgreSQL restore and verify.

A restored PostgreSQL catalog must keep working: the next ingest gets ids after the restored ones
(SERIAL sequences moved past them) and the ledger grows from the restored head.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.wiring import open_installation
from archive.backup.create import create_backup
from archive.backup.restore import restore_backup
from archive.catalog import db
from tests.archive.backup.conftest import (
    MakeInstallation,
    backup_store_of,
    put_private_key_back,
    target_settings,
)
from tests.archive.backup.test_backup_restore import catalog_rows

pytestmark = pytest.mark.postgres
NOW = dt.datetime.now(dt.UTC)
runner = CliRunner()


def test_postgresql_catalog_restores_into_sqlite_and_verifies(
    make_installation: MakeInstallation, tmp_path: Path
) -> None:
    source = make_installation(backend="postgresql", dossiers=2)
    store = backup_store_of(source)
    manifest = create_backup(source.settings, source.engine, source.store, store, NOW, tool_version="t")
    target = target_settings(source, tmp_path / "restored")
    report = restore_backup(store, "latest", target, NOW)
    assert report.verified, report.as_dict()
    assert report.ledger_root == manifest.ledger.root and report.objects_restored == 18
    engine = db.make_engine(target.effective_database_url)
    try:
        assert engine.dialect.name == "sqlite"
        assert catalog_rows(engine) == catalog_rows(source.engine)
    finally:
        engine.dispose()
    put_private_key_back(source, target.data_dir)
    result = runner.invoke(
        app,
        ["--data-dir", str(target.data_dir), "ledger", "verify", "--json"],
        env={"EDOSSIER_DATABASE_URL": ""},
    )
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"]


def test_sqlite_catalog_restores_into_postgresql_and_the_restored_archive_takes_new_dossiers(
    make_installation: MakeInstallation,
    backup_samples: list[Path],
    fresh_database_url: Callable[..., str],
    tmp_path: Path,
) -> None:
    source = make_installation(backend="sqlite", dossiers=2)
    store = backup_store_of(source)
    manifest = create_backup(source.settings, source.engine, source.store, store, NOW, tool_version="t")
    # an empty catalog already migrated to head (as `edossier init` leaves it) is a valid target
    target = target_settings(source, tmp_path / "restored", fresh_database_url("postgresql", migrated=True))
    report = restore_backup(store, manifest.backup_id, target, NOW)
    assert report.verified, report.as_dict()
    engine = db.make_engine(target.effective_database_url)
    try:
        assert engine.dialect.name == "postgresql"
        assert catalog_rows(engine) == catalog_rows(source.engine)
    finally:
        engine.dispose()

    put_private_key_back(source, target.data_dir)
    restored = open_installation(target)
    try:
        # new documents, events and checkpoint rows: their ids must follow the restored ones
        outcome = restored.ingest_service().ingest(backup_samples[2])
        assert outcome.status == "archived", outcome.errors
    finally:
        restored.close()
    env = {"EDOSSIER_DATABASE_URL": target.effective_database_url}
    for command in (["ledger", "verify"], ["storage", "reconcile"]):
        result = runner.invoke(app, ["--data-dir", str(target.data_dir), *command, "--json"], env=env)
        assert result.exit_code == 0, result.stdout
