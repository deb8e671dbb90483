"""Fixtures for transfer tests: a sender archive with three dossiers, its transfer package, receivers.

The sender and its package are built once per module (export takes about a second); every test that
changes a package works on its own copy, and every receiver is a new installation (SQLite, fs store).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.wiring import Installation, initialise, open_installation
from archive.sample import generate_sample
from archive.settings import Settings
from archive.transfer.accession import import_transfer
from archive.transfer.export import export_transfer
from archive.transfer.outcome import ExportOutcome, ImportOutcome
from archive.transfer.selection import select_dossiers
from integrity.checks.eep import load_roots
from integrity.eep_key import eep_key_paths
from tests.support.db import SqliteTemplate

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
SEEDS = (31, 32, 33)
UNITS = {"transferring_unit": "某市中级人民法院", "receiving_unit": "某市档案馆"}


def make_installation(data_dir: Path, database_url: str | None, **overrides: Any) -> Installation:
    """An initialised installation (fs store) with the test's transfer units."""
    settings = Settings(data_dir=data_dir, database_url=database_url, transfer=UNITS, **overrides)
    initialise(settings)
    return open_installation(settings)


def with_settings(inst: Installation, **update: Any) -> Installation:
    """The same installation with some settings changed (Settings is frozen)."""
    return dataclasses.replace(inst, settings=inst.settings.model_copy(update=update))


@dataclasses.dataclass
class Sent:
    """A sender installation and the transfer package it exported."""

    inst: Installation
    path: Path
    outcome: ExportOutcome

    @property
    def certificate(self) -> Path:
        """The sender's EEP certificate as handed to the receiver out of band (not the shipped copy)."""
        return eep_key_paths(self.inst.settings.keys_dir, self.inst.settings.transfer.eep_key_name)[1]


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three small valid dossiers (two documents each), generated once per session."""
    base = tmp_path_factory.mktemp("transfer-samples")
    for seed in SEEDS:
        generate_sample(base / f"d{seed}", seed=seed, documents=2, now=SAMPLE_NOW)
    return [base / f"d{seed}" for seed in SEEDS]


def archive_samples(inst: Installation, samples: list[Path]) -> None:
    for sample in samples:
        outcome = inst.ingest_service().ingest(sample)
        assert outcome.status == "archived", outcome.errors


@pytest.fixture(scope="module")
def sent(
    tmp_path_factory: pytest.TempPathFactory, samples: list[Path], sqlite_template: SqliteTemplate
) -> Iterator[Sent]:
    """A sender (SQLite) that archived the samples and exported all of them once."""
    base = tmp_path_factory.mktemp("sender")
    inst = make_installation(base / "data", sqlite_template.copy_to(base / "catalog.sqlite3"))
    archive_samples(inst, samples)
    path = base / "package"
    outcome = export_transfer(inst, select_dossiers(inst, [], True), path, now=dt.datetime.now(dt.UTC))
    assert outcome.written, [f.as_dict() for f in outcome.failures]
    yield Sent(inst, path, outcome)
    inst.close()


@pytest.fixture
def package_copy(sent: Sent, tmp_path: Path) -> Path:
    """A private copy of the exported package that a test may damage."""
    return Path(shutil.copytree(sent.path, tmp_path / "package"))


@pytest.fixture
def receiver(tmp_path: Path, fresh_database_url: Callable[..., str]) -> Iterator[Installation]:
    inst = make_installation(tmp_path / "receiver", fresh_database_url("sqlite"))
    yield inst
    inst.close()


@pytest.fixture
def accept(receiver: Installation, sent: Sent, tmp_path: Path) -> Callable[..., ImportOutcome]:
    """``accept(path, trusted=True)``: import ``path`` into the receiver, trusting the sender's certificate."""

    def run(path: Path, *, trusted: bool = True) -> ImportOutcome:
        roots = load_roots(sent.certificate) if trusted else []
        return import_transfer(
            receiver, path, roots=roots, report_dir=tmp_path / "reports", now=dt.datetime.now(dt.UTC)
        )

    return run
