"""``audit run --scope full``: the DA/T 70 BC (长期保存) stage on AIPs re-assembled from the store.

Each test archives two small sample dossiers (real ingest, fs store, SQLite) and runs the full
audit; one test truncates a stored PDF behind the store's back.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli_audit import audit_app
from api.wiring import Installation, initialise, open_installation
from archive.catalog.models import DetectionReportRow, Document, Dossier, LedgerLeaf
from archive.sample import generate_sample
from archive.settings import Settings
from archive.stores.keys import blob_key
from integrity.audit.assemble import ManifestUnusable, manifest_files
from integrity.audit.runner import ASSEMBLE_CHECK, AuditSummary, CheckResult, run_audit
from integrity.checks.registry import items_for
from integrity.reports.store import load_report

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
NOW = dt.datetime.now(dt.UTC)
BC_ITEMS = [item.id for item in items_for("BC")]

cli = typer.Typer()
cli.add_typer(audit_app, name="audit")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two small valid dossiers (two documents each), generated once for this module."""
    base = tmp_path_factory.mktemp("audit-full-samples")
    out = []
    for seed in (21, 22):
        generate_sample(base / f"d{seed}", seed=seed, documents=2, now=SAMPLE_NOW)
        out.append(base / f"d{seed}")
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The catalog database (PostgreSQL only for the clean-run test: see ``inst``)."""
    return str(request.param)


@pytest.fixture
def inst(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    samples: list[Path],
    fresh_database_url: Callable[..., str],
) -> Iterator[Installation]:
    """Two dossiers archived to a filesystem store; catalog on SQLite unless the test asks for ``backend``."""
    backend = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url(backend))
    initialise(settings)
    installation = open_installation(settings)
    for sample in samples:
        outcome = installation.ingest_service().ingest(sample)
        assert outcome.status == "archived", outcome.errors
    yield installation
    installation.close()


def _dossiers(inst: Installation) -> list[Dossier]:
    with inst.sessions() as session:
        return list(session.scalars(select(Dossier).order_by(Dossier.archive_id)))


def _bc(summary: AuditSummary, archive_id: str) -> dict[str, CheckResult]:
    return {r.check: r for r in summary.results if r.check.startswith("BC-") and r.archive_id == archive_id}


def _scratch_left(inst: Installation) -> list[Path]:
    staging = inst.settings.staging_dir
    return list(staging.glob("audit-bc-*")) if staging.exists() else []


def test_clean_archive_passes_the_bc_stage_with_32_results_and_a_stored_report(
    backend: str, inst: Installation
) -> None:
    summary = run_audit(inst, "full", NOW)

    assert summary.status == "passed", [r.as_dict() for r in summary.incidents]
    assert len(BC_ITEMS) == 32
    for dossier in _dossiers(inst):
        results = _bc(summary, dossier.archive_id)
        assert sorted(results) == sorted(BC_ITEMS)
        assert all(r.key == dossier.manifest_key and r.outcome == "ok" for r in results.values())
        assert results["BC-1-14"].evidence["status"] == "pass"  # package digest before == after
        assert results["BC-3-4"].evidence["status"] == "pass"
        assert results["BC-2-7"].evidence["status"] == "manual"  # kept visible, not a pass
        [assembled] = [
            r for r in summary.results if r.check == ASSEMBLE_CHECK and r.archive_id == dossier.archive_id
        ]
        assert assembled.outcome == "ok" and assembled.evidence["problems"] == []
        report_id = results["BC-1-1"].evidence["report_id"]
        with inst.sessions() as session:
            stored = load_report(session, report_id)
        assert stored is not None and stored.archive_id == dossier.archive_id
        assert stored.report.stage == "BC" and len(stored.report.results) == 32 and stored.report.passed
    # fixity of every object is part of the full scope too
    assert {r.check for r in summary.results} >= {"fixity", "ledger", "reconcile", ASSEMBLE_CHECK}
    assert _scratch_left(inst) == []


def test_truncated_pdf_is_found_by_fixity_and_fails_bc_readability(inst: Installation) -> None:
    target = _dossiers(inst)[0]
    with inst.sessions() as session:
        doc = session.scalars(
            select(Document).where(Document.archive_id == target.archive_id).order_by(Document.sequence)
        ).first()
    assert doc is not None and doc.file_path.endswith(".pdf")
    key = blob_key(doc.sha256)
    path = inst.settings.store_dir.joinpath(*key.split("/"))
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    path.write_bytes(path.read_bytes()[: doc.file_size // 2])

    summary = run_audit(inst, "full", NOW, alert=False)

    assert summary.status == "failed"
    [fixity] = [r for r in summary.incidents if r.check == "fixity"]
    assert fixity.key == key and fixity.evidence["fixity"] == "mismatch"
    assert fixity.evidence["found_size"] == doc.file_size // 2
    results = _bc(summary, target.archive_id)
    assert results["BC-3-4"].outcome == "incident" and results["BC-3-4"].evidence["status"] == "fail"
    assert any(p["path"] == doc.file_path for p in results["BC-3-4"].evidence["problems"])
    assert results["BC-1-14"].outcome == "incident"  # the re-read package is not the archived one
    [assembled] = [r for r in summary.incidents if r.check == ASSEMBLE_CHECK]
    [problem] = assembled.evidence["problems"]
    assert (problem["path"], problem["key"], problem["fixity"]) == (doc.file_path, key, "mismatch")
    other = _dossiers(inst)[1]
    assert all(r.outcome == "ok" for r in _bc(summary, other.archive_id).values())
    assert _scratch_left(inst) == []


def test_deleted_object_is_a_missing_file_and_the_bc_stage_still_runs(inst: Installation) -> None:
    target = _dossiers(inst)[0]
    with inst.sessions() as session:
        doc = session.scalars(
            select(Document).where(Document.archive_id == target.archive_id).order_by(Document.sequence)
        ).first()
    assert doc is not None
    key = blob_key(doc.sha256)
    inst.settings.store_dir.joinpath(*key.split("/")).unlink()

    summary = run_audit(inst, "full", NOW, alert=False)

    [assembled] = [r for r in summary.incidents if r.check == ASSEMBLE_CHECK]
    assert [(p["path"], p["fixity"]) for p in assembled.evidence["problems"]] == [(doc.file_path, "missing")]
    results = _bc(summary, target.archive_id)
    assert sorted(results) == sorted(BC_ITEMS)  # not skipped: the package is judged as it is now
    assert any(r.outcome == "incident" for r in results.values())
    assert _scratch_left(inst) == []


def test_audit_completed_leaf_says_scope_full(inst: Installation) -> None:
    summary = run_audit(inst, "full", NOW)

    with inst.sessions() as session:
        leaf = session.get(LedgerLeaf, summary.leaf_index)
    assert leaf is not None and leaf.kind == "audit.completed"
    event = json.loads(leaf.data)
    assert event["scope"] == "full" and event["result"] == "pass"
    assert event["checked"] == summary.counts["checked"]


def test_cli_dossier_option_limits_the_bc_stage_to_one_dossier(inst: Installation) -> None:
    first, second = _dossiers(inst)
    env = {"EDOSSIER_DATABASE_URL": inst.settings.effective_database_url}
    args = ["audit", "run", "--json", "--data-dir", str(inst.settings.data_dir), "--scope", "full"]

    result = CliRunner().invoke(cli, [*args, "--dossier", first.archive_id], env=env)

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["scope"] == "full" and body["status"] == "passed"
    bc_ids = {r["archive_id"] for r in body["results"] if r["check"].startswith("BC-")}
    assert bc_ids == {first.archive_id}
    with inst.sessions() as session:
        filed = set(
            session.scalars(select(DetectionReportRow.archive_id).where(DetectionReportRow.stage == "BC"))
        )
    assert filed == {first.archive_id} and second.archive_id not in filed


def test_cli_refuses_an_unknown_dossier_and_dossier_without_full(inst: Installation) -> None:
    env = {"EDOSSIER_DATABASE_URL": inst.settings.effective_database_url}
    args = ["audit", "run", "--data-dir", str(inst.settings.data_dir)]

    unknown = CliRunner().invoke(cli, [*args, "--scope", "full", "--dossier", "ED-0000-nope"], env=env)
    fixity_only = CliRunner().invoke(cli, [*args, "--dossier", _dossiers(inst)[0].archive_id], env=env)

    assert unknown.exit_code == 2, unknown.output
    assert fixity_only.exit_code == 2, fixity_only.output


def test_manifest_with_a_path_leaving_the_package_is_unusable() -> None:
    record = {"path": "../escape.pdf", "size": 1, "digests": {"sha256": "ab" * 32}}

    with pytest.raises(ManifestUnusable, match="inside the package"):
        manifest_files({"files": [record]})
