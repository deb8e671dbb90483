"""Fixtures for ingest tests: a real installation (catalog on SQLite or PostgreSQL, a real store)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api.wiring import Installation, initialise, open_installation
from archive.sample import generate_sample
from archive.settings import Settings

FIXED_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid sample dossier (folder), generated once per session; never modified by tests."""
    out = tmp_path_factory.mktemp("samples") / "dossier"
    generate_sample(out, seed=11, documents=9, now=FIXED_NOW)
    return out


@pytest.fixture(scope="session")
def sample_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples-zip") / "dossier.zip"
    return generate_sample(out, seed=11, documents=9, as_zip=True, now=FIXED_NOW).path


@pytest.fixture
def copy_of(tmp_path: Path) -> Callable[[Path], Path]:
    """Copy a session sample so a test may change it."""

    def _copy(src: Path) -> Path:
        dst = tmp_path / ("copy-" + src.name)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
        return dst

    return _copy


@pytest.fixture
def installation(
    tmp_path: Path, db_backend: str, fresh_database_url: Callable[..., str]
) -> Iterator[Installation]:
    """An initialised installation with a filesystem store, on each database backend."""
    url = fresh_database_url(db_backend, migrated=False)
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    initialise(settings)
    inst = open_installation(settings)
    yield inst
    inst.close()
