"""The HTTP API while PostgreSQL is away, and after it returns (issue 7, item 5).

The real app (:func:`api.http.app.create_app`) is served by uvicorn on a thread, on a real port,
with its database URL pointing at a :class:`TcpProxy` in front of PostgreSQL. While the proxy is
cut, readiness and every data route answer 503 in the one JSON error shape (never 500, never a
traceback), dashboard pages answer 503 pages, liveness stays 200; once the proxy is restored the
same requests answer 200 from the same server process (the pool pre-pings and reconnects).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.settings import Settings
from tests.outage.conftest import Site
from tests.outage.proxy import TcpProxy
from tests.outage.support import Served, catalog_facts, serve

pytestmark = pytest.mark.postgres

#: Longest a request may take while the database is away (the connect is refused at once).
OUTAGE_ANSWER_S = 5.0


@pytest.fixture
def served(pg_site: Site, packages: list[Path]) -> Iterator[Served]:
    archive_id = pg_site.ingest(packages[1])
    settings = Settings(data_dir=pg_site.data_dir, database_url=pg_site.env["EDOSSIER_DATABASE_URL"])
    yield from serve(pg_site, settings, archive_id)


def _data_routes(archive_id: str) -> list[str]:
    return [
        "/api/v1/dossiers",
        f"/api/v1/dossiers/{archive_id}",
        f"/api/v1/dossiers/{archive_id}/documents/1/content",
        f"/api/v1/dossiers/{archive_id}/evidence",
        "/api/v1/ledger/checkpoint",
        f"/api/v1/ledger/proofs/inclusion/{archive_id}",
        "/api/v1/audits",
        "/api/v1/audits/coverage",
        "/api/v1/alerts",
        "/api/v1/submissions",
        "/api/v1/cases/overdue",
        "/metrics",
    ]


def _all_answer(served: Served, status: int) -> None:
    for path in ["/api/v1/ready", *_data_routes(served.archive_id)]:
        response = served.get(path)
        assert response.status_code == status, f"{path}: {response.status_code} {response.text[:500]}"


def test_database_outage_answers_503_in_the_error_shape_and_recovers_without_restart(
    pg_site: Site, served: Served, pg_proxy: TcpProxy
) -> None:
    _all_answer(served, 200)

    pg_proxy.cut()
    for path in ["/api/v1/ready", *_data_routes(served.archive_id)]:
        started = time.monotonic()
        response = served.get(path)
        assert time.monotonic() - started < OUTAGE_ANSWER_S, path
        assert response.status_code == 503, f"{path}: {response.status_code} {response.text[:500]}"
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "status"}, path
        assert body["error"]["status"] == 503 and body["error"]["code"] == "database_unavailable", body
        assert "Traceback" not in response.text and "SELECT" not in response.text, path
    assert served.client.get("/api/v1/health").status_code == 200  # liveness: the process answers

    pg_proxy.restore()
    _all_answer(served, 200)
    facts = catalog_facts(pg_site.direct)
    assert not facts.alerts and "incident" not in facts.results  # the outage raised nothing


def test_dashboard_pages_answer_503_pages_during_a_database_outage(
    served: Served, pg_proxy: TcpProxy
) -> None:
    served.client.cookies.set("edossier_ui", served.token, path="/ui")
    pages = ["/ui", "/ui/dossiers", f"/ui/dossiers/{served.archive_id}", "/ui/audits", "/ui/alerts"]
    for path in pages:
        assert served.client.get(path).status_code == 200, path

    pg_proxy.cut()
    for path in pages:
        response = served.client.get(path)
        assert response.status_code == 503, f"{path}: {response.status_code}"
        assert "服务暂不可用" in response.text and "Traceback" not in response.text

    pg_proxy.restore()
    for path in pages:
        assert served.client.get(path).status_code == 200, path
