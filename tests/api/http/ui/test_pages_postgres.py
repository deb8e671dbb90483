"""The dashboard's queries on PostgreSQL: every page, search and the audit drill-down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.settings import Settings
from tests.api.http.conftest import make_served
from tests.api.http.ui.conftest import World, prepare
from tests.support.db import FreshDatabaseUrl, PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_world(
    tmp_path: Path, sample_package: Path, pg_server: PostgresServer, fresh_database_url: FreshDatabaseUrl
) -> Iterator[World]:
    pg_server.admin()  # skips (fails under CI=true) when PostgreSQL is unreachable
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url("postgresql"))
    for served in make_served(settings, sample_package):
        yield prepare(served)


def test_every_page_works_on_postgresql(pg_world: World) -> None:
    pg_world.login("archivist")
    client = pg_world.client
    paths = (
        "/ui",
        f"/ui/dossiers?case_number={pg_world.served.case_number[1:6]}&year=",
        f"/ui/dossiers/{pg_world.served.archive_id}",
        "/ui/audits",
        f"/ui/audits/{pg_world.run_id}",
        "/ui/alerts?state=all",
        "/ui/register",
    )
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:400])
    assert pg_world.served.archive_id in client.get(paths[1]).text
    run = client.get(f"/ui/audits/{pg_world.run_id}").text
    first_row = run.split('<table id="results">')[1].split("</tr>")[1]
    assert pg_world.incident_key in first_row  # incidents sort first on PostgreSQL too
    assert "已验证" in client.get(paths[2]).text
