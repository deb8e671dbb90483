"""PostgreSQL goes away in the middle of ``edossier ingest`` and ``edossier audit run`` (issue 7, item 5).

The CLI reaches a fresh PostgreSQL database through a :class:`TcpProxy` that fires on the SQL text
of one statement (``INSERT INTO dossiers`` in the ingest commit, ``INSERT INTO audit_results``,
``INSERT INTO ledger_leaves`` for ``audit.completed``). Either the server goes away (``cut``:
the connection is reset and new ones are refused) or only that connection drops (``drop``: the
server stays up). Expected: exit 3 with a message naming the database failure, nothing
half-written (the transaction is rolled back by the server), no alert; and once the database is
back the same command (or ``--resume``) completes and the ledger verifies.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.catalog.models import AuditRun, LedgerLeaf
from tests.crash.consistency import half_archived, ledger_findings, reconcile_incidents
from tests.outage.conftest import Site
from tests.outage.proxy import TcpProxy
from tests.outage.support import CliRun, catalog_facts, no_traceback, run_cli, run_results

pytestmark = pytest.mark.postgres

OUTAGES = ("cut", "drop")


def _fire_on(proxy: TcpProxy, sql: bytes, outage: str) -> None:
    proxy.cut_on(sql, after=0, drop=outage == "drop")


def _database_unavailable(run: CliRun) -> dict[str, object]:
    assert run.returncode == 3, run.describe()
    body = run.json
    error = body["error"]
    assert body["status"] == "unavailable" and error["code"] == "database_unavailable", run.describe()
    assert "DatabaseUnavailable" in run.stderr
    no_traceback(run)
    return body


@pytest.fixture
def archived(pg_site: Site, packages: list[Path]) -> Site:
    for package in packages[1:]:
        pg_site.ingest(package)
    return pg_site


@pytest.mark.parametrize("outage", OUTAGES)
def test_database_lost_at_the_ingest_commit_exits_3_and_the_rerun_archives(
    pg_site: Site, pg_proxy: TcpProxy, packages: list[Path], outage: str
) -> None:
    _fire_on(pg_proxy, rb"INSERT INTO dossiers", outage)

    run = run_cli(pg_site.data_dir, pg_site.env, "ingest", str(packages[1]), "--json")

    assert pg_proxy.tripped.is_set()
    body = _database_unavailable(run)
    assert "database unavailable during ingest" in str(body["error"])
    facts = catalog_facts(pg_site.direct)
    assert facts.dossiers == 0 and facts.archived_leaves == 0 and facts.submissions == 0, facts
    assert not facts.alerts
    incidents, orphans = reconcile_incidents(pg_site.direct, dt.datetime.now(dt.UTC))
    assert incidents == [] and orphans > 0  # the objects written before the commit, unreferenced

    pg_proxy.restore()
    again = run_cli(pg_site.data_dir, pg_site.env, "ingest", str(packages[1]), "--json")
    assert again.returncode == 0 and again.json["status"] == "archived", again.describe()
    assert half_archived(pg_site.direct) == []
    assert reconcile_incidents(pg_site.direct, dt.datetime.now(dt.UTC)) == ([], 0)  # reused, none left over
    assert ledger_findings(pg_site.direct) == []


@pytest.mark.parametrize("outage", OUTAGES)
def test_database_lost_while_recording_results_exits_3_and_resume_completes_the_run(
    archived: Site, pg_proxy: TcpProxy, outage: str
) -> None:
    _fire_on(pg_proxy, rb"INSERT INTO audit_results", outage)

    run = run_cli(archived.data_dir, archived.env, "audit", "run", "--json")

    assert pg_proxy.tripped.is_set()
    body = _database_unavailable(run)
    run_id = str(body["run_id"])
    assert body["resume"] == f"edossier audit run --resume {run_id}" and "--resume" in run.stderr
    facts = catalog_facts(archived.direct)
    assert facts.runs == {run_id: "running"} and "incident" not in facts.results and not facts.alerts

    pg_proxy.restore()
    resumed = run_cli(archived.data_dir, archived.env, "audit", "run", "--resume", run_id, "--json")
    assert resumed.returncode == 0 and resumed.json["status"] == "passed", resumed.describe()
    assert resumed.json["run_id"] == run_id and resumed.json["counts"]["incident"] == 0
    fresh = run_cli(archived.data_dir, archived.env, "audit", "run", "--json")
    assert fresh.returncode == 0 and fresh.json["status"] == "passed", fresh.describe()
    facts = catalog_facts(archived.direct)
    assert "incident" not in facts.results and "unreachable" not in facts.results and not facts.alerts
    assert ledger_findings(archived.direct) == []


@pytest.mark.parametrize("outage", OUTAGES)
def test_database_lost_at_audit_completed_leaves_the_run_resumable_without_a_signing_alert(
    archived: Site, pg_proxy: TcpProxy, outage: str
) -> None:
    _fire_on(pg_proxy, rb"INSERT INTO ledger_leaves", outage)

    run = run_cli(archived.data_dir, archived.env, "audit", "run", "--json")

    assert pg_proxy.tripped.is_set()
    run_id = str(_database_unavailable(run)["run_id"])
    facts = catalog_facts(archived.direct)
    # every result recorded, nothing closed: no run without its audit.completed leaf, no false alert
    assert facts.runs == {run_id: "running"} and not facts.alerts, facts
    assert len(run_results(archived.direct, run_id)) > 0
    assert "incident" not in facts.results and "unreachable" not in facts.results

    pg_proxy.restore()
    resumed = run_cli(archived.data_dir, archived.env, "audit", "run", "--resume", run_id, "--json")
    assert resumed.returncode == 0 and resumed.json["status"] == "passed", resumed.describe()
    with archived.direct.sessions() as session:
        leaf_index = session.scalar(select(AuditRun.leaf_index).where(AuditRun.id == run_id))
        assert leaf_index is not None
        leaf = session.get(LedgerLeaf, leaf_index)
        assert leaf is not None
        event = json.loads(leaf.data)
    assert event["type"] == "audit.completed" and event["result"] == "pass"
    assert not catalog_facts(archived.direct).alerts
    assert ledger_findings(archived.direct) == []
