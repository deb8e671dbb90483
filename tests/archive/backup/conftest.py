"""Fixtures for backup and restore: real installations (SQLite or PostgreSQL, fs store) with archived dossiers."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.wiring import Installation, initialise, open_installation
from archive.backup.store import open_backup_store
from archive.sample import generate_sample
from archive.settings import BackupSettings, Settings
from archive.stores import ObjectStore

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)

MakeInstallation = Callable[..., Installation]


@pytest.fixture(scope="session")
def backup_samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three small valid dossiers (two documents each), generated once; never modified by tests."""
    base = tmp_path_factory.mktemp("backup-samples")
    out = []
    for seed in (31, 32, 33):
        generate_sample(base / f"d{seed}", seed=seed, documents=2, now=SAMPLE_NOW)
        out.append(base / f"d{seed}")
    return out


@pytest.fixture(autouse=True)
def _no_backup_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the tests, never from the developer's EDOSSIER_* environment."""
    for name in (
        "EDOSSIER_BACKUP__STORE",
        "EDOSSIER_BACKUP__PATH",
        "EDOSSIER_DATABASE_URL",
        "EDOSSIER_STORE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_installation(
    tmp_path: Path, backup_samples: list[Path], fresh_database_url: Callable[..., str]
) -> Iterator[MakeInstallation]:
    """``make_installation(backend="sqlite", dossiers=2, backup=BackupSettings(...) | None, name="src")``."""
    opened: list[Installation] = []

    def make(
        backend: str = "sqlite", dossiers: int = 2, backup: BackupSettings | None = None, name: str = "src"
    ) -> Installation:
        (tmp_path / "backup-store").mkdir(exist_ok=True)
        settings = Settings(
            data_dir=tmp_path / name,
            database_url=fresh_database_url(backend, migrated=False),
            backup=backup or BackupSettings(store="fs", path=tmp_path / "backup-store"),
        )
        initialise(settings)
        inst = open_installation(settings)
        opened.append(inst)
        for sample in backup_samples[:dossiers]:
            outcome = inst.ingest_service().ingest(sample)
            assert outcome.status == "archived", outcome.errors
        return inst

    yield make
    for inst in opened:
        inst.close()


def backup_store_of(inst: Installation) -> ObjectStore:
    return open_backup_store(inst.settings, prepare=True)


def target_settings(
    inst: Installation, data_dir: Path, database_url: str | None = None, **extra: Any
) -> Settings:
    """Where a restore goes: a new data directory (SQLite there unless ``database_url``), fs store."""
    return inst.settings.model_copy(update={"data_dir": data_dir, "database_url": database_url, **extra})


def put_private_key_back(inst: Installation, target: Path) -> None:
    """What the operator does after a restore: copy the private key from the offline key backup."""
    name = f"{inst.settings.signing_key_name}.key"
    shutil.copy2(inst.settings.keys_dir / name, target / "keys" / name)
    (target / "keys" / name).chmod(0o600)
