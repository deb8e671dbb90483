"""Fixtures of the access tests: the sample dossier archived per test, on fs or S3 and SQLite or PostgreSQL.

The sample has seven documents: six in the 正卷 and the seventh — 审理报告 — in the 副卷 (see
access_helpers.py for their 顺序号). Each installation sends its alerts to a loopback webhook only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest

from api.wiring import initialise, open_installation
from archive.sample import generate_sample
from archive.settings import S3Settings, Settings
from integrity.alerts.settings import AlertSettings
from tests.archive.access.access_helpers import SAMPLE_NOW, Archived
from tests.support.alert_receivers import Webhook, webhook_receiver


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("access-sample") / "dossier"
    generate_sample(folder, seed=11, documents=7, now=SAMPLE_NOW)
    return folder


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook_receiver() as receiver:
        yield receiver


def _archive(settings: Settings, sample: Path, hook: Webhook) -> Iterator[Archived]:
    initialise(settings)
    inst = open_installation(settings)
    try:
        outcome = inst.ingest_service().ingest(sample)
        assert outcome.status == "archived" and outcome.archive_id is not None, outcome.errors
        yield Archived(inst, outcome.archive_id, sample, hook)
    finally:
        inst.close()


STORE_AND_DB = [
    pytest.param(("fs", "sqlite"), id="fs-sqlite"),
    pytest.param(("fs", "postgresql"), id="fs-postgresql", marks=pytest.mark.postgres),
    pytest.param(("s3", "sqlite"), id="s3-sqlite", marks=pytest.mark.s3),
    pytest.param(("s3", "postgresql"), id="s3-postgresql", marks=[pytest.mark.s3, pytest.mark.postgres]),
]
DBS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _settings(
    request: pytest.FixtureRequest, tmp_path: Path, url: str, hook: Webhook, store: str = "fs"
) -> Settings:
    alerts = AlertSettings(log=False, webhooks=(hook.url,))
    if store == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        s3 = S3Settings(
            endpoint=endpoint,
            access_key="test",
            secret_key="test",
            bucket=request.getfixturevalue("unique_bucket"),
        )
        return Settings(data_dir=tmp_path / "data", database_url=url, store="s3", s3=s3, alerts=alerts)
    return Settings(data_dir=tmp_path / "data", database_url=url, alerts=alerts)


@pytest.fixture(params=STORE_AND_DB)
def anywhere(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sample: Path,
    hook: Webhook,
    fresh_database_url: Callable[..., str],
) -> Iterator[Archived]:
    """The sample archived on every store × database combination."""
    store, backend = cast(tuple[str, str], request.param)
    yield from _archive(_settings(request, tmp_path, fresh_database_url(backend), hook, store), sample, hook)


@pytest.fixture(params=DBS)
def archived(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sample: Path,
    hook: Webhook,
    fresh_database_url: Callable[..., str],
) -> Iterator[Archived]:
    """The sample archived on the filesystem store, catalog on SQLite and on PostgreSQL."""
    yield from _archive(_settings(request, tmp_path, fresh_database_url(request.param), hook), sample, hook)
