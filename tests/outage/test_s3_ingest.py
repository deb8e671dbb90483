"""The S3 endpoint goes away in the middle of ``edossier ingest`` (issue 7, item 5).

The CLI runs as a subprocess and reaches moto_server through a :class:`TcpProxy` that cuts (or
stalls) itself right after the third upload request went through. Expected: exit 3 naming the
store and its endpoint, within a bounded time; no dossier row, no ``dossier.archived`` leaf, no
submission, no alert; and once the endpoint is back, the same command archives the package, the
store reconciles clean with no orphan left by the failed run, and the ledger verifies.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tests.crash.consistency import half_archived, ledger_findings, reconcile_incidents
from tests.outage.conftest import Site
from tests.outage.proxy import TcpProxy
from tests.outage.support import catalog_facts, finish_cli, no_traceback, run_cli, start_cli

pytestmark = pytest.mark.s3

#: Upper bound for an ingest whose endpoint refuses connections (measured ~4 s here, start-up included).
REFUSED_BOUND_S = 30.0
#: Upper bound when the endpoint hangs: one read timeout (10 s) per upload thread, no retry of it, and
#: every later call fails at once (measured ~13 s; it was 297 s before archive/stores/s3.py bounded it).
HUNG_BOUND_S = 45.0
UPLOADS_BEFORE_CUT = 3


def _puts(bucket: str) -> bytes:
    return rb"PUT /" + re.escape(bucket.encode()) + rb"/\S+ HTTP/1\.1\r\n"


def _nothing_archived(site: Site) -> None:
    facts = catalog_facts(site.direct)
    assert facts.dossiers == 0 and facts.archived_leaves == 0 and facts.submissions == 0, facts
    assert not facts.alerts and not facts.results, facts


def _archives_after_restore(site: Site, package: Path, proxy: TcpProxy) -> None:
    proxy.restore()
    again = run_cli(site.data_dir, site.env, "ingest", str(package), "--json")
    assert again.returncode == 0 and again.json["status"] == "archived", again.describe()
    reconciled = run_cli(site.data_dir, site.env, "storage", "reconcile", "--json")
    assert reconciled.returncode == 0, reconciled.describe()
    assert half_archived(site.direct) == []
    assert reconcile_incidents(site.direct, dt.datetime.now(dt.UTC)) == ([], 0)  # no orphan left either
    assert ledger_findings(site.direct) == []
    facts = catalog_facts(site.direct)
    assert facts.dossiers == 1 and facts.archived_leaves == 1 and not facts.alerts


def test_endpoint_cut_mid_ingest_exits_3_archives_nothing_and_the_rerun_archives(
    s3_site: Site, s3_proxy: TcpProxy, packages: list[Path]
) -> None:
    bucket = s3_site.direct.settings.s3.bucket
    s3_proxy.cut_on(_puts(bucket), after=UPLOADS_BEFORE_CUT)

    run = run_cli(s3_site.data_dir, s3_site.env, "ingest", str(packages[0]), "--json")

    assert s3_proxy.tripped.is_set(), "the endpoint was never cut: the package wrote too few objects"
    assert run.returncode == 3, run.describe()
    error = run.json["error"]
    assert run.json["status"] == "unavailable" and error["code"] == "store_unavailable", run.describe()
    assert s3_proxy.endpoint in error["message"] and "s3 store" in error["message"]
    assert "StoreUnavailable" in run.stderr
    no_traceback(run)
    assert run.elapsed < REFUSED_BOUND_S, run.describe()
    written = [o.key for o in s3_site.direct.store.iter_objects("blobs/")]
    assert 1 <= len(written) <= UPLOADS_BEFORE_CUT  # the cut came after some objects were stored
    _nothing_archived(s3_site)

    _archives_after_restore(s3_site, packages[0], s3_proxy)


@pytest.mark.slow
def test_hung_endpoint_mid_ingest_exits_3_within_a_bound(
    s3_site: Site, s3_proxy: TcpProxy, packages: list[Path]
) -> None:
    bucket = s3_site.direct.settings.s3.bucket
    s3_proxy.cut_on(_puts(bucket), after=UPLOADS_BEFORE_CUT, stall=True)

    proc, started = start_cli(s3_site.data_dir, s3_site.env, "ingest", str(packages[0]), "--json")
    run = finish_cli(proc, started)

    assert s3_proxy.tripped.is_set()
    assert run.returncode == 3, run.describe()
    assert run.json["error"]["code"] == "store_unavailable"
    assert "timed out" in run.json["error"]["message"].lower()
    no_traceback(run)
    assert run.elapsed < HUNG_BOUND_S, run.describe()
    _nothing_archived(s3_site)

    _archives_after_restore(s3_site, packages[0], s3_proxy)
