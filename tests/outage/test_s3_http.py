"""The HTTP API while the S3 endpoint is away, and after it returns (issue 7, item 5).

The app is served by uvicorn on a thread and reaches moto_server through a :class:`TcpProxy`.
While the proxy is cut, readiness answers 503 ``store_unavailable`` in the one JSON error shape,
catalog routes keep answering 200 and a download raises no incident; once the proxy is restored the
same server answers 200 again within the store's outage hold (archive/stores/s3.py
``OUTAGE_HOLD_S``). A download during the outage answers 503 too: the object is opened before the
access is logged and before the response starts (regression: it answered 200, then a broken body).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from archive.settings import S3Settings
from archive.stores.s3 import OUTAGE_HOLD_S
from tests.outage.conftest import Site
from tests.outage.proxy import TcpProxy
from tests.outage.support import Served, catalog_facts, serve

pytestmark = pytest.mark.s3

READY = "/api/v1/ready"
DOWNLOAD = "/api/v1/dossiers/{archive_id}/documents/1/content"


@pytest.fixture
def served(s3_site: Site, s3_proxy: TcpProxy, packages: list[Path]) -> Iterator[Served]:
    archive_id = s3_site.ingest(packages[1])
    direct = s3_site.direct.settings
    through = S3Settings(**(direct.s3.model_dump() | {"endpoint": s3_proxy.endpoint}))
    yield from serve(s3_site, direct.model_copy(update={"s3": through}), archive_id)


def _store_unavailable(response: httpx.Response, proxy: TcpProxy) -> None:
    assert response.status_code == 503, f"{response.status_code} {response.text[:300]}"
    error = response.json()["error"]
    assert error == {"code": "store_unavailable", "message": error["message"], "status": 503}
    assert proxy.endpoint in error["message"] and "Traceback" not in response.text


def test_store_outage_makes_ready_503_keeps_the_catalog_and_recovers_without_restart(
    s3_site: Site, served: Served, s3_proxy: TcpProxy
) -> None:
    download = DOWNLOAD.format(archive_id=served.archive_id)
    catalog = f"/api/v1/dossiers/{served.archive_id}"
    for path in (READY, download, catalog):
        assert served.get(path).status_code == 200, path

    s3_proxy.cut()
    _store_unavailable(served.get(READY), s3_proxy)
    assert served.get(catalog).status_code == 200  # the catalog does not need the store
    _store_unavailable(served.get(download), s3_proxy)  # opened before the response starts
    assert (
        "incident" not in catalog_facts(s3_site.direct).alerts
    )  # a download during an outage is no incident

    s3_proxy.restore()
    deadline = time.monotonic() + OUTAGE_HOLD_S + 10
    while (status := served.get(READY).status_code) != 200:
        assert status == 503 and time.monotonic() < deadline, (
            f"ready still {status} after the endpoint returned"
        )
        time.sleep(0.2)
    assert served.get(download).status_code == 200


def test_download_during_a_store_outage_answers_503_and_logs_no_access(
    s3_site: Site, served: Served, s3_proxy: TcpProxy
) -> None:
    before = catalog_facts(s3_site.direct)
    s3_proxy.cut()
    _store_unavailable(served.get(DOWNLOAD.format(archive_id=served.archive_id)), s3_proxy)
    after = catalog_facts(s3_site.direct)
    assert after.leaves == before.leaves  # no dossier.accessed for a download that was not served
