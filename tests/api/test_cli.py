"""The CLI contract: exit codes, exactly one JSON object with --json, --data-dir on every command."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_json(stdout: str) -> dict[str, object]:
    value = json.loads(stdout)  # fails if there is anything but one JSON document
    assert isinstance(value, dict)
    return value


@pytest.fixture(scope="module")
def sample_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "case"
    code, stdout, _ = run("sample", str(out), "--seed", "5", "--documents", "6", "--zip", "--json")
    assert code == 0
    return Path(str(one_json(stdout)["path"]))


def test_sample_validate_ingest_show_stats_round_trip(tmp_path: Path, sample_zip: Path) -> None:
    data = str(tmp_path / "data")

    code, stdout, _ = run("validate", str(sample_zip), "--json")
    assert code == 0 and one_json(stdout)["valid"] is True

    code, stdout, _ = run("--data-dir", data, "ingest", str(sample_zip), "--json")
    receipt = one_json(stdout)
    assert code == 0, receipt
    assert receipt["status"] == "archived"
    assert str(receipt["manifest_digest"]).startswith("sha256:")
    assert receipt["leaf_index"] == 0
    assert receipt["errors"] == []
    assert set(receipt) >= {"status", "archive_id", "case_number", "manifest_digest", "leaf_index", "errors"}

    code, stdout, _ = run("ingest", str(sample_zip), "--json", "--data-dir", data)
    again = one_json(stdout)
    assert (
        code == 0 and again["status"] == "already_archived" and again["archive_id"] == receipt["archive_id"]
    )

    code, stdout, _ = run("show", str(receipt["case_number"]), "--json", "--data-dir", data)
    shown = one_json(stdout)
    assert code == 0 and shown["archive_id"] == receipt["archive_id"] and shown["documents"]

    code, stdout, _ = run("stats", "--json", "--data-dir", data)
    numbers = one_json(stdout)
    assert set(numbers) == {"dossiers", "documents", "blobs", "blob_bytes", "ledger_size"}
    assert (numbers["dossiers"], numbers["documents"], numbers["ledger_size"]) == (1, 6, 1)
    assert numbers["blobs"] == shown_blobs(shown)
    assert isinstance(numbers["blob_bytes"], int) and numbers["blob_bytes"] > 0

    code, stdout, _ = run("ledger", "checkpoint", "--data-dir", data)
    assert code == 0 and stdout.splitlines()[1] == "1" and "\n\n— " in stdout


def shown_blobs(shown: dict[str, object]) -> int:
    docs = shown["documents"]
    assert isinstance(docs, list)
    # every content file + its metadata XML + 说明文件 + 目录文件, all distinct here
    return 2 * len(docs) + 2


def test_data_dir_from_environment(tmp_path: Path, sample_zip: Path) -> None:
    env = {"EDOSSIER_DATA_DIR": str(tmp_path / "envdata")}
    code, stdout, _ = run("ingest", str(sample_zip), "--json", env=env)
    assert code == 0 and one_json(stdout)["status"] == "archived"
    assert (tmp_path / "envdata" / "keys").is_dir()


def test_validate_invalid_package_exits_1_with_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"this is not a zip file at all")
    code, stdout, _ = run("validate", str(bad), "--json")
    result = one_json(stdout)
    assert code == 1
    assert result["valid"] is False
    errors = result["errors"]
    assert (
        isinstance(errors, list) and errors and set(errors[0]) == {"code", "item", "path", "line", "message"}
    )


def test_ingest_rejection_exits_1_and_stats_unchanged(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    bad = tmp_path / "empty.zip"
    bad.write_bytes(b"")
    code, stdout, _ = run("ingest", str(bad), "--json", "--data-dir", data)
    assert code == 1 and one_json(stdout)["status"] == "rejected"
    code, stdout, _ = run("stats", "--json", "--data-dir", data)
    assert one_json(stdout) == {"dossiers": 0, "documents": 0, "blobs": 0, "blob_bytes": 0, "ledger_size": 0}


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("ingest", str(tmp_path / "does-not-exist.zip"))[0] == 2
    assert run("validate")[0] == 2
    assert run("no-such-command")[0] == 2


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_database_exits_3(tmp_path: Path, sample_zip: Path) -> None:
    env = {"EDOSSIER_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nowhere"}
    code, stdout, _ = run("ingest", str(sample_zip), "--json", "--data-dir", str(tmp_path / "d"), env=env)
    assert code == 3
    assert one_json(stdout)["status"] == "unavailable"


def test_console_script_is_installed_and_answers_help() -> None:
    exe = Path(sys.executable).parent / "edossier"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "ingest" in result.stdout


def test_unreachable_object_store_exits_3(tmp_path: Path, sample_zip: Path) -> None:
    env = {"EDOSSIER_STORE": "s3", "EDOSSIER_S3__ENDPOINT": f"127.0.0.1:{_closed_port()}"}
    code, stdout, _ = run("ingest", str(sample_zip), "--json", "--data-dir", str(tmp_path / "d"), env=env)
    assert code == 3
    result = one_json(stdout)
    assert result["status"] == "unavailable"
    assert "store" in str(result["error"]).lower()


def test_ingest_with_clamd_never_archives_files_the_scanner_could_not_fully_scan(
    tmp_path: Path, sample_zip: Path, clamd: object
) -> None:
    """The test clamd streams at most a few MiB: the sample's larger PDFs come back "too large",
    which DA/T 70 GD-4-2 must treat as a failure, never as clean; the report says which files."""
    from tests.support.clamd import TestClamd

    assert isinstance(clamd, TestClamd)
    env = {"EDOSSIER_CLAMD_ADDRESS": clamd.address}
    data = str(tmp_path / "data")
    code, stdout, _ = run("ingest", str(sample_zip), "--json", "--data-dir", data, env=env)
    receipt = one_json(stdout)
    report = receipt["report"]
    assert isinstance(report, dict)
    results = {r["item"]: r for r in report["results"]}
    assert code == 1 and receipt["status"] == "rejected"
    assert results["GD-4-1"]["status"] in ("pass", "warn")  # the scanner answered
    assert results["GD-4-2"]["status"] == "fail"
    assert {e["code"] for e in receipt["errors"]} == {"virus_scan_incomplete"}  # type: ignore[union-attr]
    assert results["GD-4-6"]["status"] == "not_applicable" and results["GD-4-5"]["status"] == "manual"

    code, stdout, _ = run("report", str(receipt["submission_id"]), "--format", "json", "--data-dir", data)
    assert code == 0 and '"GD-4-2"' in stdout
    pdf = tmp_path / "report.pdf"
    code, _, _ = run(
        "report", str(receipt["submission_id"]), "--format", "pdf", "-o", str(pdf), "--data-dir", data
    )
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF")


def test_sender_package_digest_is_compared_on_receipt(tmp_path: Path, sample_zip: Path) -> None:
    """DA/T 70 GD-1-14 信息包一致性: the digest the sender computed before sending vs ours on receipt."""
    import hashlib

    good = hashlib.sha256(sample_zip.read_bytes()).hexdigest()
    code, stdout, _ = run(
        "ingest", str(sample_zip), "--json", "--sha256", "0" * 64, "--data-dir", str(tmp_path / "a")
    )
    refused = one_json(stdout)
    assert code == 1 and {e["item"] for e in refused["errors"]} == {"GD-1-14"}  # type: ignore[union-attr]

    code, stdout, _ = run(
        "ingest", str(sample_zip), "--json", "--sha256", good, "--data-dir", str(tmp_path / "b")
    )
    accepted = one_json(stdout)
    assert code == 0
    items = {r["item"]: r["status"] for r in accepted["report"]["results"]}  # type: ignore[index]
    assert items["GD-1-14"] == "pass"

    assert run("ingest", str(sample_zip), "--sha256", "not-hex", "--data-dir", str(tmp_path / "c"))[0] == 2


def test_an_older_embedded_database_is_migrated_on_next_use_and_a_shared_one_is_refused(
    tmp_path: Path,
) -> None:
    """Regression: a data directory made before migration 0005 failed `audit run` with "no such table"."""
    from archive.catalog import db

    data = tmp_path / "data"
    assert run("init", "--json", "--data-dir", str(data))[0] == 0
    url = f"sqlite:///{(data / 'catalog.sqlite3').resolve()}"
    db._run(url, "downgrade", "0004")  # as if made by the previous release
    assert db.current_revision(url) == "0004"

    code, stdout, _ = run("stats", "--json", "--data-dir", str(data))
    assert code == 0 and db.current_revision(url) == db.head_revision()

    # a database named explicitly (shared, e.g. PostgreSQL) is never migrated behind the operator's back
    db._run(url, "downgrade", "0004")
    code, stdout, _ = run("stats", "--json", "--data-dir", str(data), env={"EDOSSIER_DATABASE_URL": url})
    assert code == 3 and one_json(stdout)["error"]["code"] == "database_not_migrated"  # type: ignore[index]
    assert db.current_revision(url) == "0004"
