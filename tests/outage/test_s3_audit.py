"""The S3 endpoint goes away in the middle of ``edossier audit run`` (issue 7, item 5).

Three dossiers are archived (through a direct connection), then the CLI audits through a
:class:`TcpProxy` that cuts itself after the first object reads, or breaks a manifest off after its
headers, or hangs. Classify, don't cry wolf: what was read is ``ok``, every object and dossier that
could not be checked is recorded ``unreachable`` – never an incident, and no incident alert; the run
is reported unfinished (exit 3, status ``unreachable``, its ``audit.completed`` leaf says
``incomplete``). Once the endpoint is back, the next run checks every object ``ok``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.catalog.models import AuditResult, AuditRun, Blob, Dossier, LedgerLeaf
from archive.reconcile import aip_keys
from tests.outage.conftest import Site
from tests.outage.proxy import TcpProxy
from tests.outage.support import (
    CliRun,
    catalog_facts,
    finish_cli,
    no_traceback,
    run_cli,
    run_results,
    start_cli,
)

pytestmark = pytest.mark.s3

BLOB_READS_BEFORE_CUT = 5
#: A hung endpoint: one read timeout (10 s), then every other read fails at once (measured ~14 s).
HUNG_BOUND_S = 45.0
#: The response headers of a JSON object (an AIP manifest; S3's own answers are XML).
MANIFEST_HEADERS = (
    rb"(?i)HTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*?content-type: application/json\r\n(?:[^\r\n]+\r\n)*\r\n"
)


def _blob_gets(bucket: str) -> bytes:
    return rb"GET /" + re.escape(bucket.encode()) + rb"/blobs/\S* HTTP/1\.1\r\n"


@pytest.fixture
def archived(s3_site: Site, packages: list[Path]) -> Site:
    for package in packages:
        s3_site.ingest(package)
    return s3_site


def _catalogued(site: Site) -> tuple[set[str], set[str]]:
    """Every object key the catalog expects in the store, and every dossier's manifest key."""
    with site.direct.sessions() as session:
        blobs = set(session.scalars(select(Blob.store_key)))
        manifests = set(session.scalars(select(Dossier.manifest_key)))
    return blobs | {k for m in manifests for k in aip_keys(m)}, manifests


def _by_check(results: list[AuditResult], check: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in results:
        if r.check == check:
            assert r.object_key not in out, f"{check} of {r.object_key} recorded twice"
            out[r.object_key] = r.outcome
    return out


def _assert_unfinished_without_incident(site: Site, run: CliRun) -> list[AuditResult]:
    """Exit 3, status unreachable, every object and dossier has a result, none is an incident."""
    assert run.returncode == 3, run.describe()
    body = run.json
    assert body["status"] == "unreachable" and body["incidents"] == [], run.describe()
    assert body["counts"]["incident"] == 0 and body["counts"]["unreachable"] > 0
    no_traceback(run)
    results = run_results(site.direct, body["run_id"])
    assert all(r.outcome != "incident" for r in results)
    objects, manifests = _catalogued(site)
    fixity, ledger = _by_check(results, "fixity"), _by_check(results, "ledger")
    assert objects <= set(fixity), f"objects without a result: {sorted(objects - set(fixity))}"
    assert manifests <= set(ledger)
    unread = [
        r for r in results if r.outcome == "unreachable" and r.check == "fixity" and r.object_key in objects
    ]
    assert unread and all(json.loads(r.evidence_json)["error_code"] == "store_unavailable" for r in unread)
    facts = catalog_facts(site.direct)
    assert "incident" not in facts.alerts and facts.alerts["unreachable"] == 1, facts.alerts
    assert facts.runs[body["run_id"]] == "unreachable"
    with site.direct.sessions() as session:
        leaf_index = session.scalar(select(AuditRun.leaf_index).where(AuditRun.id == body["run_id"]))
        assert leaf_index is not None
        leaf = session.get(LedgerLeaf, leaf_index)
        assert leaf is not None and json.loads(leaf.data)["result"] == "incomplete"
    return results


def _passes_after_restore(site: Site, proxy: TcpProxy) -> None:
    proxy.restore()
    run = run_cli(site.data_dir, site.env, "audit", "run", "--json")
    assert run.returncode == 0 and run.json["status"] == "passed", run.describe()
    results = run_results(site.direct, run.json["run_id"])
    assert Counter(r.outcome for r in results) == Counter(ok=len(results))
    objects, manifests = _catalogued(site)
    assert set(_by_check(results, "fixity")) == objects and manifests <= set(_by_check(results, "ledger"))
    assert "incident" not in catalog_facts(site.direct).alerts


def test_endpoint_cut_mid_audit_records_unread_objects_unreachable_and_exits_3(
    archived: Site, s3_proxy: TcpProxy
) -> None:
    s3_proxy.cut_on(_blob_gets(archived.direct.settings.s3.bucket), after=BLOB_READS_BEFORE_CUT)

    run = run_cli(archived.data_dir, archived.env, "audit", "run", "--json")

    assert s3_proxy.tripped.is_set()
    results = _assert_unfinished_without_incident(archived, run)
    fixity = Counter(r.outcome for r in results if r.check == "fixity" and r.object_key.startswith("blobs/"))
    assert fixity["ok"] == BLOB_READS_BEFORE_CUT  # one by one: each read before the cut was answered
    assert set(_by_check(results, "ledger").values()) == {"ok"}  # manifests were read before the blobs
    reconcile = [r for r in results if r.check == "reconcile"]
    assert reconcile and {r.outcome for r in reconcile} == {"unreachable"}

    _passes_after_restore(archived, s3_proxy)


def test_endpoint_cut_under_forked_batch_workers_records_no_incident(
    archived: Site, s3_proxy: TcpProxy
) -> None:
    s3_proxy.cut_on(_blob_gets(archived.direct.settings.s3.bucket), after=BLOB_READS_BEFORE_CUT)

    run = run_cli(archived.data_dir, archived.env, "audit", "run", "--json", "--workers", "2")

    assert s3_proxy.tripped.is_set()
    results = _assert_unfinished_without_incident(archived, run)
    ok_blobs = [
        r for r in results if r.check == "fixity" and r.object_key.startswith("blobs/") and r.outcome == "ok"
    ]
    assert len(ok_blobs) <= BLOB_READS_BEFORE_CUT

    _passes_after_restore(archived, s3_proxy)


def test_manifest_breaking_off_mid_body_is_unreachable_not_a_crash(
    archived: Site, s3_proxy: TcpProxy
) -> None:
    s3_proxy.cut_on(MANIFEST_HEADERS, after=0, in_responses=True, forward_match=True)

    run = run_cli(archived.data_dir, archived.env, "audit", "run", "--json")

    assert s3_proxy.tripped.is_set()
    results = _assert_unfinished_without_incident(archived, run)
    ledger = [r for r in results if r.check == "ledger" and r.archive_id is not None]
    assert ledger and {r.outcome for r in ledger} == {"unreachable"}
    first = json.loads(min(ledger, key=lambda r: r.id).evidence_json)
    assert first["error_code"] == "store_unavailable" and "could not read" in first["error"]

    _passes_after_restore(archived, s3_proxy)


@pytest.mark.slow
def test_hung_endpoint_mid_audit_exits_3_within_a_bound(archived: Site, s3_proxy: TcpProxy) -> None:
    s3_proxy.cut_on(_blob_gets(archived.direct.settings.s3.bucket), after=BLOB_READS_BEFORE_CUT, stall=True)

    proc, started = start_cli(archived.data_dir, archived.env, "audit", "run", "--json")
    run = finish_cli(proc, started)

    assert s3_proxy.tripped.is_set()
    assert run.elapsed < HUNG_BOUND_S, run.describe()
    _assert_unfinished_without_incident(archived, run)

    _passes_after_restore(archived, s3_proxy)
