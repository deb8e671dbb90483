"""The audit runner end to end: real ingest, real fs store, moto-free outage, SQLite and PostgreSQL.

Each test archives two small sample dossiers into its own data directory, tampers with one thing
(the stored bytes, the catalog, the ledger) or takes the store away, and runs the audit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
import typer
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from api.cli_audit import audit_app
from api.wiring import Installation, initialise, open_installation
from archive.catalog.models import AuditResult, AuditRun, Blob, Checkpoint, Dossier, LedgerLeaf
from archive.sample import generate_sample
from archive.settings import Settings
from archive.stores import ObjectStore
from integrity.audit.policy import AuditPolicy
from integrity.audit.runner import AuditSummary, CheckResult, results_digest, run_audit
from integrity.ledger.rotation import load_known_verifiers
from integrity.ledger.verify import check_ledger
from tests.support.s3 import free_port, make_s3_store

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
SM3_TOO = AuditPolicy(sm3_on_fixity=True)
NOW = dt.datetime.now(dt.UTC)

cli = typer.Typer()
cli.add_typer(audit_app, name="audit")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two small valid dossiers (two documents each), generated once for this module."""
    base = tmp_path_factory.mktemp("audit-samples")
    out = []
    for seed in (11, 12):
        generate_sample(base / f"d{seed}", seed=seed, documents=2, now=SAMPLE_NOW)
        out.append(base / f"d{seed}")
    return out


def _archived(settings: Settings, samples: list[Path]) -> Iterator[Installation]:
    initialise(settings)
    inst = open_installation(settings)
    for sample in samples:
        outcome = inst.ingest_service().ingest(sample)
        assert outcome.status == "archived", outcome.errors
    yield inst
    inst.close()


@pytest.fixture
def inst(
    tmp_path: Path, samples: list[Path], fresh_database_url: Callable[..., str]
) -> Iterator[Installation]:
    """Two dossiers archived to a filesystem store, catalog on SQLite; fixity re-hashes SHA-256 and SM3."""
    settings = Settings(
        data_dir=tmp_path / "data", database_url=fresh_database_url("sqlite"), audit=SM3_TOO
    )
    yield from _archived(settings, samples)


def _run(inst: Installation, **kwargs: Any) -> AuditSummary:
    return run_audit(inst, "fixity", NOW, **kwargs)


def _blob(inst: Installation, index: int = 0) -> Blob:
    with inst.sessions() as session:
        return session.scalars(select(Blob).order_by(Blob.store_key)).all()[index]


def _object_path(inst: Installation, key: str) -> Path:
    return inst.settings.store_dir.joinpath(*key.split("/"))


def _writable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _sqlite_file(inst: Installation) -> str:
    return inst.settings.effective_database_url.removeprefix("sqlite:///")


def _raw_sql(inst: Installation, sql: str, params: tuple[Any, ...]) -> None:
    """Tamper behind the application's back (foreign keys off, as an attacker with the file would)."""
    conn = sqlite3.connect(_sqlite_file(inst))
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def _only(summary: AuditSummary, check: str) -> list[CheckResult]:
    return [r for r in summary.incidents if r.check == check]


def _recorded(inst: Installation, run_id: str) -> list[AuditResult]:
    with inst.sessions() as session:
        return list(session.scalars(select(AuditResult).where(AuditResult.run_id == run_id)))


# ---------------------------------------------------------------- clean runs
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_clean_run_exits_0_with_a_result_per_object(
    backend: str, tmp_path: Path, samples: list[Path], fresh_database_url: Callable[..., str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url(backend))
    for inst in _archived(settings, samples):
        env = {"EDOSSIER_DATABASE_URL": settings.effective_database_url}
        result = CliRunner().invoke(
            cli, ["audit", "run", "--json", "--data-dir", str(settings.data_dir)], env=env
        )

        assert result.exit_code == 0, result.output
        body = json.loads(result.stdout)
        assert body["status"] == "passed" and body["incidents"] == []
        with inst.sessions() as session:
            blob_keys = set(session.scalars(select(Blob.store_key)))
            manifests = set(session.scalars(select(Dossier.manifest_key)))
        fixity = {r["key"] for r in body["results"] if r["check"] == "fixity" and r["outcome"] == "ok"}
        assert blob_keys | manifests <= fixity
        ledger = {r["key"] for r in body["results"] if r["check"] == "ledger" and r["outcome"] == "ok"}
        assert manifests | {"ledger"} == ledger
        assert len(_recorded(inst, body["run_id"])) == len(body["results"]) == body["counts"]["checked"]


def test_audit_completed_leaf_is_appended_signed_and_verifiable(inst: Installation) -> None:
    summary = _run(inst)

    assert summary.status == "passed" and summary.leaf_index is not None and summary.checkpoint
    with inst.sessions() as session:
        leaf = session.get(LedgerLeaf, summary.leaf_index)
        run = session.get(AuditRun, summary.run_id)
        report = check_ledger(session, load_known_verifiers(inst.settings.keys_dir))
        size = session.scalar(select(func.max(Checkpoint.size)))
    assert leaf is not None and leaf.kind == "audit.completed"
    event = json.loads(leaf.data)
    assert event["audit_id"] == summary.run_id and event["result"] == "pass"
    assert event["report_sha256"] == summary.results_sha256 == results_digest(summary.results)
    assert event["checked"] == summary.counts["checked"] and event["failed"] == 0
    assert run is not None and run.status == "passed" and run.leaf_index == summary.leaf_index
    assert report.ok and size == summary.leaf_index + 1  # the checkpoint covers the new leaf


def test_two_workers_check_the_same_objects_as_one(inst: Installation) -> None:
    one = _run(inst)
    two = _run(inst, workers=2)

    assert two.status == "passed"
    assert sorted((r.check, r.key) for r in two.results) == sorted((r.check, r.key) for r in one.results)


# ---------------------------------------------------------------- tampered bytes
def test_flipped_byte_is_an_incident_naming_the_key_with_both_digests(inst: Installation) -> None:
    blob = _blob(inst)
    path = _object_path(inst, blob.store_key)
    _writable(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    result = CliRunner().invoke(
        cli,
        ["audit", "run", "--data-dir", str(inst.settings.data_dir)],
        env={"EDOSSIER_DATABASE_URL": inst.settings.effective_database_url},
    )

    assert result.exit_code == 1, result.output
    assert blob.store_key in result.stdout and blob.sha256 in result.stdout
    summary = _run(inst, alert=False)
    [fixity] = _only(summary, "fixity")
    assert fixity.key == blob.store_key and fixity.evidence["fixity"] == "mismatch"
    assert fixity.evidence["expected_sha256"] == blob.sha256
    assert fixity.evidence["found_sha256"] != blob.sha256 and len(fixity.evidence["found_sha256"]) == 64
    assert summary.status == "failed"


def test_deleted_object_is_reported_missing(inst: Installation) -> None:
    blob = _blob(inst, 1)
    _object_path(inst, blob.store_key).unlink()

    summary = _run(inst)

    [fixity] = _only(summary, "fixity")
    assert (fixity.key, fixity.evidence["fixity"]) == (blob.store_key, "missing")
    assert blob.store_key in {r.key for r in _only(summary, "reconcile")}
    assert summary.status == "failed"


def test_object_replaced_by_another_of_the_same_size_is_a_mismatch(inst: Installation) -> None:
    blob = _blob(inst)
    path = _object_path(inst, blob.store_key)
    _writable(path)
    path.write_bytes(b"\x00" * blob.size)

    summary = _run(inst)

    [fixity] = _only(summary, "fixity")
    assert fixity.key == blob.store_key and fixity.evidence["mismatched"] == ["sha256", "sm3"]
    assert fixity.evidence["found_size"] == fixity.evidence["expected_size"] == blob.size
    assert _only(summary, "reconcile") == []  # same size: only re-hashing can see it


# ---------------------------------------------------------------- tampered catalog and ledger
def test_edited_blob_sm3_in_the_catalog_is_an_incident(inst: Installation) -> None:
    blob = _blob(inst)
    _raw_sql(inst, "UPDATE blobs SET sm3 = ? WHERE sha256 = ?", ("0" * 64, blob.sha256))

    summary = _run(inst)

    [fixity] = _only(summary, "fixity")
    assert fixity.key == blob.store_key and fixity.evidence["mismatched"] == ["sm3"]
    assert fixity.evidence["expected_sm3"] == "0" * 64 and fixity.evidence["found_sm3"] == blob.sm3


def test_default_policy_rehashes_sm3_on_full_checks_only(
    tmp_path: Path, samples: list[Path], fresh_database_url: Callable[..., str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url("sqlite"))
    for inst in _archived(settings, samples):
        blob = _blob(inst)
        _raw_sql(inst, "UPDATE blobs SET sm3 = ? WHERE sha256 = ?", ("0" * 64, blob.sha256))

        fixity_only = _run(inst)
        assert fixity_only.status == "passed"
        checked = next(r for r in fixity_only.results if r.key == blob.store_key and r.check == "fixity")
        assert "expected_sm3" not in checked.evidence and "found_sha256" in checked.evidence

        full = run_audit(inst, "full", NOW)
        [fixity] = [r for r in full.incidents if r.check == "fixity"]
        assert fixity.key == blob.store_key and fixity.evidence["mismatched"] == ["sm3"]


def test_edited_document_digest_in_the_catalog_is_a_ledger_incident(inst: Installation) -> None:
    with inst.sessions() as session:
        dossier = session.scalars(select(Dossier).order_by(Dossier.archive_id)).first()
        assert dossier is not None
        original = dossier.documents[0].sha256
        doc_id = dossier.documents[0].id
    other = _blob(inst).sha256 if _blob(inst).sha256 != original else _blob(inst, 1).sha256
    _raw_sql(inst, "UPDATE documents SET sha256 = ? WHERE id = ?", (other, doc_id))

    summary = _run(inst)

    [ledger] = _only(summary, "ledger")
    assert ledger.key == dossier.manifest_key and ledger.archive_id == dossier.archive_id
    [problem] = ledger.evidence["problems"]
    assert (
        problem["code"] == "catalog_digest_differs_from_manifest" and problem["column"] == "documents.sha256"
    )
    assert (problem["expected"], problem["found"]) == (original, other)


def test_edited_ledger_leaf_row_is_a_ledger_incident(inst: Installation) -> None:
    with inst.sessions() as session:
        dossier = session.scalars(select(Dossier).order_by(Dossier.archive_id)).first()
        assert dossier is not None
        leaf = session.get(LedgerLeaf, dossier.leaf_index)
        assert leaf is not None
    forged = json.loads(leaf.data) | {"manifest_sha256": "f" * 64}
    _raw_sql(
        inst,
        "UPDATE ledger_leaves SET data = ? WHERE leaf_index = ?",
        (json.dumps(forged, sort_keys=True, separators=(",", ":")).encode(), dossier.leaf_index),
    )

    summary = _run(inst)

    incidents = {(r.check, r.key) for r in summary.incidents}
    assert ("ledger", "ledger") in incidents  # the recomputed leaf hash differs
    assert ("ledger", dossier.manifest_key) in incidents  # the leaf names another manifest
    [bound] = [r for r in summary.incidents if r.key == dossier.manifest_key]
    assert {p["code"] for p in bound.evidence["problems"]} >= {"manifest_digest_differs_from_ledger"}
    assert summary.status == "failed"


def test_rolled_back_checkpoint_is_a_ledger_incident(inst: Installation) -> None:
    with inst.write_sessions() as session, session.begin():
        first = session.scalars(select(Checkpoint).order_by(Checkpoint.id)).first()
        assert first is not None
        session.add(
            Checkpoint(
                origin=first.origin,
                size=first.size,
                root_hash=first.root_hash,
                note=first.note,
                key_id=first.key_id,
                created_at=NOW,
            )
        )

    summary = _run(inst)

    [ledger] = _only(summary, "ledger")
    assert ledger.key == "ledger" and ledger.evidence["finding_count"] >= 1
    assert summary.status == "failed"


# ---------------------------------------------------------------- outages
def test_store_outage_exits_3_and_records_no_incident(inst: Installation) -> None:
    down = make_s3_store(f"127.0.0.1:{free_port()}", "edossier-down", retries=0, timeout_s=1)

    summary = _run(dataclasses.replace(inst, store=down))

    assert summary.status == "unreachable" and summary.incidents == []
    recorded = _recorded(inst, summary.run_id)
    assert recorded and all(r.outcome != "incident" for r in recorded)
    assert any(r.outcome == "unreachable" for r in recorded)
    with inst.sessions() as session:
        leaf = session.get(LedgerLeaf, summary.leaf_index)
    assert leaf is not None and json.loads(leaf.data)["result"] == "incomplete"


def test_cli_exits_3_when_the_s3_endpoint_is_closed(inst: Installation) -> None:
    env = {
        "EDOSSIER_DATABASE_URL": inst.settings.effective_database_url,
        "EDOSSIER_STORE": "s3",
        "EDOSSIER_S3__ENDPOINT": f"127.0.0.1:{free_port()}",
    }

    result = CliRunner().invoke(
        cli, ["audit", "run", "--json", "--data-dir", str(inst.settings.data_dir)], env=env
    )

    assert result.exit_code == 3, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "unreachable" and body["incidents"] == []


def test_database_outage_exits_3(tmp_path: Path) -> None:
    env = {"EDOSSIER_DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"}

    result = CliRunner().invoke(cli, ["audit", "run", "--json", "--data-dir", str(tmp_path / "d")], env=env)

    assert result.exit_code == 3, result.output


# ---------------------------------------------------------------- interruption
class _DiesAfter:
    """Delegates to a store; the ``n``-th open raises KeyboardInterrupt (a killed process)."""

    def __init__(self, store: ObjectStore, n: int) -> None:
        self._store = store
        self._left = n
        self.name = store.name

    def open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        self._left -= 1
        if self._left <= 0:
            raise KeyboardInterrupt
        return self._store.open(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_resuming_an_interrupted_run_does_not_duplicate_results(inst: Installation) -> None:
    dying = dataclasses.replace(inst, store=_DiesAfter(inst.store, 5))
    with pytest.raises(KeyboardInterrupt):
        _run(dying, batch_size=1)
    with inst.sessions() as session:
        run = session.scalars(select(AuditRun)).one()
    kept = _recorded(inst, run.id)
    assert run.status == "running" and len(kept) == 4  # what was committed before the kill stays

    summary = _run(inst, resume=run.id)

    recorded = _recorded(inst, run.id)
    pairs = [(r.object_key, r.check) for r in recorded]
    assert len(pairs) == len(set(pairs)) == summary.counts["checked"]
    assert {r.id for r in kept} <= {r.id for r in recorded}
    assert summary.status == "passed"
    again = CliRunner().invoke(
        cli,
        ["audit", "run", "--resume", run.id, "--data-dir", str(inst.settings.data_dir)],
        env={"EDOSSIER_DATABASE_URL": inst.settings.effective_database_url},
    )
    assert again.exit_code == 2  # a finished run is never changed


# ---------------------------------------------------------------- coverage and evidence
def test_coverage_lists_every_object_overdue_until_audited(inst: Installation) -> None:
    env = {"EDOSSIER_DATABASE_URL": inst.settings.effective_database_url}
    args = ["audit", "coverage", "--json", "--data-dir", str(inst.settings.data_dir)]
    before = json.loads(CliRunner().invoke(cli, args, env=env).stdout)
    assert before["objects"] > 0 and before["overdue"] == before["objects"]

    _run(inst)
    with inst.write_sessions() as session, session.begin():
        session.execute(
            update(AuditResult)
            .where(AuditResult.object_key == _blob(inst).store_key)
            .values(checked_at=NOW - dt.timedelta(days=400))
        )
    after = json.loads(CliRunner().invoke(cli, args, env=env).stdout)

    assert after["overdue"] == 1
    [stale] = [i for i in after["items"] if i["overdue"]]
    assert stale["key"] == _blob(inst).store_key and stale["last_verified"] is not None


def test_show_prints_a_runs_evidence(inst: Installation) -> None:
    summary = _run(inst)
    env = {"EDOSSIER_DATABASE_URL": inst.settings.effective_database_url}

    shown = CliRunner().invoke(
        cli, ["audit", "show", summary.run_id, "--json", "--data-dir", str(inst.settings.data_dir)], env=env
    )

    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["status"] == "passed" and body["results_sha256"] == summary.results_sha256
    assert len(body["results"]) == summary.counts["checked"]
