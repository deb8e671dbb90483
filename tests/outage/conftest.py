"""Fixtures of the outage tests: a :class:`TcpProxy` in front of moto_server or PostgreSQL, sample packages.

Every installation here has two faces on the same data directory: the ``edossier`` CLI (or the HTTP
app) reaches the object store or the database through the proxy the test cuts and restores; the test
itself reads and sets up through a *direct* installation, so what it checks is never affected by the
outage it made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from api.wiring import Installation, initialise, open_installation
from archive.sample import generate_sample
from archive.settings import S3Settings, Settings
from tests.outage.proxy import TcpProxy
from tests.support.db import PostgresServer

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three valid dossier folders: one of 10 documents (22 files), two of 3 documents."""
    base = tmp_path_factory.mktemp("outage-packages")
    out = []
    for seed, documents in ((31, 10), (32, 3), (33, 3)):
        generate_sample(base / f"p{seed}", seed=seed, documents=documents, now=SAMPLE_NOW)
        out.append(base / f"p{seed}")
    return out


@pytest.fixture
def s3_proxy(s3_endpoint: str) -> Iterator[TcpProxy]:
    """A proxy in front of the session's moto_server."""
    host, port = s3_endpoint.rsplit(":", 1)
    proxy = TcpProxy((host, int(port)))
    yield proxy
    proxy.close()


@pytest.fixture
def pg_proxy(pg_server: PostgresServer) -> Iterator[TcpProxy]:
    """A proxy in front of the test PostgreSQL server (skipped when it is unreachable, unless CI=true)."""
    pg_server.admin()
    url = pg_server.admin_url
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy
    proxy.close()


def through(proxy: TcpProxy, database_url: str) -> str:
    """``database_url`` with its host and port replaced by the proxy's."""
    return make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


@dataclass
class Site:
    """One installation: its data directory, the CLI's environment (through the proxy), the direct one."""

    data_dir: Path
    env: dict[str, str]
    direct: Installation

    def ingest(self, package: Path) -> str:
        """Archive ``package`` through the direct installation; its archive id."""
        outcome = self.direct.ingest_service().ingest(package)
        assert outcome.status == "archived" and outcome.archive_id is not None, outcome.errors
        return outcome.archive_id


def _site(data_dir: Path, direct: Settings, env: dict[str, str]) -> Iterator[Site]:
    initialise(direct)
    inst = open_installation(direct)
    try:
        yield Site(data_dir, env, inst)
    finally:
        inst.close()


@pytest.fixture
def s3_site(
    tmp_path: Path,
    s3_endpoint: str,
    s3_proxy: TcpProxy,
    unique_bucket: str,
    fresh_database_url: Callable[..., str],
) -> Iterator[Site]:
    """Catalog on SQLite, objects in a moto bucket with Object Lock; the CLI reaches moto via the proxy."""
    data_dir = tmp_path / "data"
    database_url = fresh_database_url("sqlite")
    s3 = S3Settings(endpoint=s3_endpoint, access_key="test", secret_key="test", bucket=unique_bucket)
    env = {
        "EDOSSIER_DATABASE_URL": database_url,
        "EDOSSIER_STORE": "s3",
        "EDOSSIER_S3__ENDPOINT": s3_proxy.endpoint,
        "EDOSSIER_S3__ACCESS_KEY": "test",
        "EDOSSIER_S3__SECRET_KEY": "test",
        "EDOSSIER_S3__BUCKET": unique_bucket,
    }
    yield from _site(data_dir, Settings(data_dir=data_dir, database_url=database_url, store="s3", s3=s3), env)


@pytest.fixture
def pg_site(tmp_path: Path, pg_proxy: TcpProxy, fresh_database_url: Callable[..., str]) -> Iterator[Site]:
    """Catalog in a new PostgreSQL database, objects on the filesystem; the CLI reaches PostgreSQL via the proxy."""
    data_dir = tmp_path / "data"
    database_url = fresh_database_url("postgresql")
    env = {"EDOSSIER_DATABASE_URL": through(pg_proxy, database_url)}
    yield from _site(data_dir, Settings(data_dir=data_dir, database_url=database_url), env)
