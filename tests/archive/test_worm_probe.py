"""The WORM probe against moto (which lets retention be shortened), the fs store and a closed port."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli_storage import storage_app
from archive.stores import FsStore, MemoryStore
from archive.stores.s3 import S3Store
from archive.worm_probe import PROBE_PREFIX, ProbeCheck, decide_verdict, probe_worm, summarise
from tests.support.s3 import free_port, make_s3_store


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def locked_bucket(s3_endpoint: str, unique_bucket: str) -> S3Store:
    store = make_s3_store(s3_endpoint, unique_bucket)
    store.ensure_bucket()
    return store


def by_name(checks: list[ProbeCheck]) -> dict[str, ProbeCheck]:
    return {c.name: c for c in checks}


@pytest.mark.s3
def test_moto_is_not_enforced_because_retention_can_be_shortened(locked_bucket: S3Store) -> None:
    report = probe_worm(locked_bucket, now())

    assert report.verdict == "not_enforced"
    assert "retention can be shortened" in report.summary
    checks = by_name(report.checks)
    assert checks["shortening_refused"].passed is False
    assert "retention can be shortened" in checks["shortening_refused"].detail
    # what moto does enforce is reported as passed
    assert checks["locked_write"].passed and checks["lock_applied"].passed
    assert checks["delete_refused"].passed and checks["bypass_refused"].passed
    assert checks["overwrite_keeps_version"].passed


@pytest.mark.s3
def test_probe_never_leaves_the_canary_unlocked(locked_bucket: S3Store) -> None:
    started = now()
    report = probe_worm(locked_bucket, started)

    assert report.key is not None and report.key.startswith(PROBE_PREFIX + "worm-")
    assert by_name(report.checks)["canary_left_locked"].passed
    versions = [
        o.version_id
        for o in locked_bucket.client.list_objects(
            locked_bucket.bucket, prefix=report.key, include_version=True
        )
    ]
    assert len(versions) == 2  # the canary and the overwrite attempt, both kept
    for version in versions:
        head = locked_bucket.client.stat_object(locked_bucket.bucket, report.key, version_id=version)
        assert head.metadata is not None
        assert head.metadata["x-amz-object-lock-mode"] == "COMPLIANCE"
        until = dt.datetime.fromisoformat(
            head.metadata["x-amz-object-lock-retain-until-date"].replace("Z", "+00:00")
        )
        assert until >= started + dt.timedelta(minutes=4)


@pytest.mark.s3
def test_bucket_without_object_lock_is_not_enforced_at_the_first_write(
    s3_endpoint: str, unique_bucket: str
) -> None:
    store = make_s3_store(s3_endpoint, unique_bucket, object_lock=False)
    store.ensure_bucket()

    report = probe_worm(store, now())

    assert report.verdict == "not_enforced"
    assert [(c.name, c.passed) for c in report.checks] == [("locked_write", False)]
    assert "ObjectLockConfiguration" in report.checks[0].detail


def test_fs_store_is_unsupported_and_says_what_protects_it(tmp_path: Path) -> None:
    store = FsStore(tmp_path / "objects")
    store.ensure_root()

    report = probe_worm(store, now())

    assert report.verdict == "unsupported"
    assert not report.enforced
    assert "只读" in report.summary and "Object Lock" in report.summary
    assert list(store.iter_objects()) == []  # nothing written to a store that cannot lock it


def test_memory_store_is_unsupported() -> None:
    assert probe_worm(MemoryStore(), now()).verdict == "unsupported"


def test_closed_port_is_unreachable_not_a_failed_worm_check() -> None:
    store = make_s3_store(f"127.0.0.1:{free_port()}", "edossier-nowhere", retries=0, timeout_s=1)

    report = probe_worm(store, now())

    assert report.verdict == "unreachable"
    assert [c.name for c in report.checks] == ["reachable"]
    assert "Connection refused" in report.checks[0].detail or "refused" in report.checks[0].detail.lower()


def test_zero_checks_never_make_an_enforced_verdict() -> None:
    assert decide_verdict([]) == "not_enforced"
    assert decide_verdict(
        [ProbeCheck("delete_refused", True, ""), ProbeCheck("shortening_refused", False, "")]
    ) == ("not_enforced")
    assert "retention can be shortened" in summarise(
        "not_enforced", [ProbeCheck("shortening_refused", False, "")]
    )


def test_naive_now_is_a_caller_bug(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        probe_worm(FsStore(tmp_path), dt.datetime(2025, 1, 1))


# ---------------------------------------------------------------- CLI exit codes
cli = typer.Typer()
cli.add_typer(storage_app, name="storage")
runner = CliRunner()


def _s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "EDOSSIER_STORE": "s3",
        "EDOSSIER_S3__ENDPOINT": endpoint,
        "EDOSSIER_S3__BUCKET": bucket,
        "EDOSSIER_S3__ACCESS_KEY": "test",
        "EDOSSIER_S3__SECRET_KEY": "test",
    }


@pytest.mark.s3
def test_cli_probe_on_moto_exits_1_with_one_json_object(locked_bucket: S3Store, tmp_path: Path) -> None:
    env = _s3_env(locked_bucket.settings.endpoint, locked_bucket.bucket)
    result = runner.invoke(cli, ["storage", "probe", "--json", "--data-dir", str(tmp_path)], env=env)

    assert result.exit_code == 1, result.output
    body = json.loads(result.stdout)
    assert body["verdict"] == "not_enforced"
    assert {c["name"]: c["passed"] for c in body["checks"]}["shortening_refused"] is False


def test_cli_probe_exits_3_when_the_store_is_unreachable(tmp_path: Path) -> None:
    env = _s3_env(f"127.0.0.1:{free_port()}", "edossier-nowhere")
    result = runner.invoke(cli, ["storage", "probe", "--data-dir", str(tmp_path)], env=env)

    assert result.exit_code == 3
    assert "存储不可达" in result.stdout


def test_cli_probe_on_fs_exits_1_unsupported(tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["storage", "probe", "--json", "--data-dir", str(tmp_path)], env={"EDOSSIER_STORE": "fs"}
    )

    assert result.exit_code == 1
    assert json.loads(result.stdout)["verdict"] == "unsupported"
