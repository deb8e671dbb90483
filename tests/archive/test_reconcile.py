"""Reconciliation of catalog and store: real ingest, real fs store, moto S3, SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.retention import Retention
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli_storage import storage_app
from api.wiring import Installation, initialise, open_installation
from archive.catalog.models import Blob, Dossier
from archive.reconcile import (
    ExpectedObject,
    ReconcileReport,
    StoredVersion,
    check_lock,
    check_versions,
    reconcile,
)
from archive.sample import generate_sample
from archive.settings import S3Settings, Settings
from archive.stores import ObjectInfo, ObjectStore
from archive.stores.s3 import S3Store
from archive.worm_probe import probe_worm
from tests.support.s3 import free_port, make_s3_store

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small valid dossier (three documents), generated once for this module."""
    out = tmp_path_factory.mktemp("reconcile-sample") / "dossier"
    generate_sample(out, seed=5, documents=3, now=SAMPLE_NOW)
    return out


def _archived(settings: Settings, sample: Path) -> Iterator[Installation]:
    initialise(settings)
    inst = open_installation(settings)
    outcome = inst.ingest_service().ingest(sample)
    assert outcome.status == "archived", outcome.errors
    yield inst
    inst.close()


@pytest.fixture
def fs_inst(tmp_path: Path, sample: Path, fresh_database_url: Callable[..., str]) -> Iterator[Installation]:
    """One dossier archived to a filesystem store, catalog on SQLite."""
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url("sqlite"))
    yield from _archived(settings, sample)


@pytest.fixture
def s3_inst(
    tmp_path: Path, sample: Path, s3_endpoint: str, unique_bucket: str, fresh_database_url: Callable[..., str]
) -> Iterator[Installation]:
    """One dossier archived to a moto bucket with Object Lock, catalog on SQLite."""
    s3 = S3Settings(endpoint=s3_endpoint, access_key="test", secret_key="test", bucket=unique_bucket)
    settings = Settings(
        data_dir=tmp_path / "data", database_url=fresh_database_url("sqlite"), store="s3", s3=s3
    )
    yield from _archived(settings, sample)


def run(inst: Installation, store: ObjectStore | None = None) -> ReconcileReport:
    with inst.sessions() as session:
        return reconcile(session, store or inst.store, inst.settings, NOW)


def kinds(report: ReconcileReport) -> list[tuple[str, str | None]]:
    return [(f.kind, f.key) for f in report.findings]


def first_blob(inst: Installation) -> Blob:
    with inst.sessions() as session:
        blob = session.scalars(select(Blob).order_by(Blob.size.desc())).first()
    assert blob is not None
    return blob


def manifest_of(inst: Installation) -> str:
    with inst.sessions() as session:
        key = session.scalars(select(Dossier.manifest_key)).one()
    return key


# ---------------------------------------------------------------- filesystem store
def test_reconcile_after_ingest_is_clean_on_each_database(
    tmp_path: Path, sample: Path, db_backend: str, fresh_database_url: Callable[..., str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url(db_backend))
    for inst in _archived(settings, sample):
        report = run(inst)
        assert report.status == "clean"
        assert report.findings == []
        assert report.counts["expected_objects"] == report.counts["stored_objects"] > 3
        assert report.counts["incident"] == 0


def test_deleted_blob_is_an_object_missing_incident(fs_inst: Installation) -> None:
    blob = first_blob(fs_inst)
    (fs_inst.settings.store_dir / blob.store_key).unlink()

    report = run(fs_inst)

    assert report.status == "incidents"
    assert kinds(report) == [("object_missing", blob.store_key)]
    assert report.findings[0].evidence["expected_size"] == blob.size
    assert "对象缺失" in report.findings[0].message


def test_missing_description_file_beside_the_manifest_is_an_incident(fs_inst: Installation) -> None:
    described = manifest_of(fs_inst).rsplit("/", 1)[0] + "/说明文件.xml"
    (fs_inst.settings.store_dir / described).unlink()

    assert kinds(run(fs_inst)) == [("object_missing", described)]


def test_blob_replaced_by_one_of_another_size_is_a_size_mismatch_incident(fs_inst: Installation) -> None:
    blob = first_blob(fs_inst)
    path = fs_inst.settings.store_dir / blob.store_key
    path.unlink()
    path.write_bytes(b"replaced")

    report = run(fs_inst)

    assert kinds(report) == [("object_size_mismatch", blob.store_key)]
    assert report.findings[0].evidence == {
        "expected_size": blob.size,
        "found_size": len(b"replaced"),
        "version_id": None,
    }


def test_unknown_object_is_reported_as_orphan_and_never_deleted(fs_inst: Installation) -> None:
    data = b"left behind by a crashed ingest"
    key = "blobs/sha256/" + hashlib.sha256(data).hexdigest()[:2] + "/00/" + hashlib.sha256(data).hexdigest()
    fs_inst.store.put_bytes(key, data)

    report = run(fs_inst)

    assert report.status == "clean"  # an orphan is information, not an incident
    assert kinds(report) == [("orphan", key)]
    assert report.findings[0].severity == "info"
    assert fs_inst.store.exists(key)


def test_store_folder_gone_is_unreachable_not_an_incident(fs_inst: Installation) -> None:
    shutil.move(fs_inst.settings.store_dir, fs_inst.settings.data_dir / "unmounted")

    report = run(fs_inst)

    assert report.status == "unreachable"
    assert [(f.kind, f.severity) for f in report.findings] == [("unreachable", "unreachable")]
    assert report.incidents == []


# ---------------------------------------------------------------- S3 (moto)


def _client(inst: Installation) -> tuple[S3Store, str]:
    store = inst.store
    assert isinstance(store, S3Store)
    return store, store.bucket


@pytest.mark.s3
def test_s3_reconcile_after_ingest_is_clean_including_versions_and_locks(s3_inst: Installation) -> None:
    report = run(s3_inst)

    assert report.status == "clean", report.findings
    assert report.findings == []
    assert report.counts["locks_checked"] == report.counts["expected_objects"]
    assert report.counts["versions"] == report.counts["expected_objects"]


@pytest.mark.s3
def test_s3_shortened_retention_is_lock_too_short(s3_inst: Installation) -> None:
    store, bucket = _client(s3_inst)
    blob = first_blob(s3_inst)
    short = (NOW + dt.timedelta(days=30)).replace(microsecond=0)
    store.client.set_object_retention(bucket, blob.store_key, Retention(COMPLIANCE, short))  # moto allows it

    report = run(s3_inst)

    assert kinds(report) == [("lock_too_short", blob.store_key)]
    evidence = report.findings[0].evidence
    assert evidence["mode"] == "COMPLIANCE"
    assert dt.datetime.fromisoformat(evidence["retain_until"]) == short
    assert dt.datetime.fromisoformat(evidence["required_until"]).year >= NOW.year + 30


@pytest.mark.s3
def test_s3_governance_lock_is_lock_weak(s3_inst: Installation) -> None:
    store, bucket = _client(s3_inst)
    key = manifest_of(s3_inst)
    info = store.stat(key)
    assert info.retain_until is not None
    store.client.set_object_retention(bucket, key, Retention(GOVERNANCE, info.retain_until))

    assert kinds(run(s3_inst)) == [("lock_weak", key)]


@pytest.mark.s3
def test_s3_delete_marker_is_an_incident_reported_once(s3_inst: Installation) -> None:
    store, bucket = _client(s3_inst)
    key = manifest_of(s3_inst)
    store.client.remove_object(bucket, key)  # no version id: a delete marker, allowed even under lock

    report = run(s3_inst)

    assert kinds(report) == [("delete_marker", key)]
    finding = report.findings[0]
    assert finding.severity == "incident"
    assert finding.evidence["latest_is_delete_marker"] is True
    assert [v["is_delete_marker"] for v in finding.evidence["versions"]].count(False) == 1  # recoverable


@pytest.mark.s3
def test_s3_overwritten_blob_is_an_extra_version_and_a_size_mismatch(s3_inst: Installation) -> None:
    store, bucket = _client(s3_inst)
    blob = first_blob(s3_inst)
    data = b"forged"
    checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
    store.client.put_object(
        bucket,
        blob.store_key,
        io.BytesIO(data),
        len(data),
        metadata={"x-amz-sdk-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": checksum},
        retention=Retention(COMPLIANCE, NOW + dt.timedelta(days=365 * 101)),
    )

    report = run(s3_inst)

    assert sorted(kinds(report)) == [
        ("extra_version", blob.store_key),
        ("object_size_mismatch", blob.store_key),
    ]


@pytest.mark.s3
def test_s3_orphan_is_reported_and_the_probe_canary_is_not(s3_inst: Installation) -> None:
    store, _ = _client(s3_inst)
    store.put_bytes("blobs/sha256/ff/ff/orphan", b"unknown to the catalog")
    assert probe_worm(store, dt.datetime.now(dt.UTC)).verdict == "not_enforced"

    report = run(s3_inst)

    assert kinds(report) == [("orphan", "blobs/sha256/ff/ff/orphan")]
    assert report.counts["probe_objects"] == 1
    assert store.exists("blobs/sha256/ff/ff/orphan")


@pytest.mark.s3
def test_s3_endpoint_down_is_unreachable_not_an_incident(fs_inst: Installation) -> None:
    down = make_s3_store(f"127.0.0.1:{free_port()}", "edossier-down", retries=0, timeout_s=1)

    report = run(fs_inst, down)

    assert report.status == "unreachable"
    assert [f.kind for f in report.findings] == ["unreachable"]
    assert "不构成篡改" in report.findings[0].message


# ---------------------------------------------------------------- pure decisions
def _expected(until: dt.datetime | None) -> ExpectedObject:
    return ExpectedObject("blobs/k", 3, until, "ED-1 保管期限「长期」", "blob")


def test_lock_ending_within_the_slack_is_accepted_and_beyond_it_is_too_short() -> None:
    required = dt.datetime(2085, 3, 1, 9, 30, 5, tzinfo=dt.UTC)
    ingest_lock = ObjectInfo(
        "blobs/k", 3, retain_until=required - dt.timedelta(seconds=4), retention_mode="COMPLIANCE"
    )
    too_short = ObjectInfo(
        "blobs/k", 3, retain_until=required - dt.timedelta(days=2), retention_mode="COMPLIANCE"
    )

    assert check_lock(_expected(required), ingest_lock) == []
    assert [f.kind for f in check_lock(_expected(required), too_short)] == ["lock_too_short"]


def test_object_without_retention_is_lock_missing_and_legal_hold_is_info() -> None:
    found = ObjectInfo("blobs/k", 3, legal_hold=True)

    findings = check_lock(_expected(None), found)

    assert [(f.kind, f.severity) for f in findings] == [("lock_missing", "incident"), ("legal_hold", "info")]


def test_second_version_of_catalogued_key_is_extra_version_but_uncatalogued_keys_are_ignored() -> None:
    versions = [
        StoredVersion("blobs/k", "v2", 3, is_latest=True, is_delete_marker=False),
        StoredVersion("blobs/k", "v1", 3, is_latest=False, is_delete_marker=False),
        StoredVersion("probe/worm-1", "p2", 3, is_latest=False, is_delete_marker=False),
    ]

    findings = check_versions({"blobs/k": _expected(None)}, versions)

    assert [(f.kind, f.key) for f in findings] == [("extra_version", "blobs/k")]


# ---------------------------------------------------------------- CLI
cli = typer.Typer()
cli.add_typer(storage_app, name="storage")


def test_cli_reconcile_exits_1_with_incidents_and_prints_one_json_object(fs_inst: Installation) -> None:
    runner = CliRunner()
    data_dir = str(fs_inst.settings.data_dir)
    env = {"EDOSSIER_DATABASE_URL": fs_inst.settings.effective_database_url}
    clean = runner.invoke(cli, ["storage", "reconcile", "--json", "--data-dir", data_dir], env=env)
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["status"] == "clean"

    (fs_inst.settings.store_dir / first_blob(fs_inst).store_key).unlink()
    broken = runner.invoke(cli, ["storage", "reconcile", "--json", "--data-dir", data_dir], env=env)

    assert broken.exit_code == 1
    assert [f["kind"] for f in json.loads(broken.stdout)["findings"]] == ["object_missing"]
    human = runner.invoke(cli, ["storage", "reconcile", "--data-dir", data_dir], env=env)
    assert human.exit_code == 1 and "对象缺失" in human.stdout


def test_cli_reconcile_exits_3_when_the_store_is_gone(fs_inst: Installation) -> None:
    shutil.move(fs_inst.settings.store_dir, fs_inst.settings.data_dir / "unmounted")
    env = {"EDOSSIER_DATABASE_URL": fs_inst.settings.effective_database_url}

    result = CliRunner().invoke(
        cli, ["storage", "reconcile", "--json", "--data-dir", str(fs_inst.settings.data_dir)], env=env
    )

    assert result.exit_code == 3
    body = json.loads(result.stdout)
    assert body["status"] == "unreachable" and body["counts"]["incident"] == 0
