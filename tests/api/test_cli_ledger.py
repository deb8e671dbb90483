"""``ledger verify`` and ``ledger rotate-key``: exit codes, one JSON object, findings with positions."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli import app as main_app
from api.cli_ledger import ledger_verify, rotate_key
from api.wiring import open_installation
from archive.settings import Settings
from integrity.events import event
from integrity.ledger.store import LedgerStore

runner = CliRunner()

# The commands as the main CLI registers them under its ``ledger`` group.
app = typer.Typer()
ledger_group = typer.Typer()
app.add_typer(ledger_group, name="ledger")
ledger_group.command("verify")(ledger_verify)
ledger_group.command("rotate-key")(rotate_key)


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An initialised installation with five leaves and two signed checkpoints."""
    data = tmp_path / "data"
    assert runner.invoke(main_app, ["init", "--data-dir", str(data)]).exit_code == 0
    inst = open_installation(Settings(data_dir=data))
    store = LedgerStore()
    now = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    try:
        with inst.write_sessions() as session, session.begin():
            for i in range(5):
                store.append(session, event("dossier.accessed", archive_id=f"A{i}", actor="a", seq=i), now)
                if i in (1, 4):
                    store.sign_checkpoint(session, inst.signer, inst.settings.ledger_origin, now)
    finally:
        inst.close()
    return data


def test_ledger_verify_of_untouched_ledger_exits_0_with_one_json_object(data_dir):
    code, stdout, _ = run("ledger", "verify", "--data-dir", str(data_dir), "--json")
    report = json.loads(stdout)
    assert code == 0
    assert (report["ok"], report["size"], report["leaves_checked"], report["checkpoints_checked"]) == (
        True,
        5,
        5,
        2,
    )
    assert report["findings"] == []


def test_ledger_verify_reports_edited_leaf_with_its_index_and_exits_1(data_dir):
    with sqlite3.connect(data_dir / "catalog.sqlite3") as db:
        db.execute(
            "UPDATE ledger_leaves SET data = ? WHERE leaf_index = 3", (b'{"type":"dossier.accessed"}',)
        )
    code, stdout, _ = run("ledger", "verify", "--data-dir", str(data_dir), "--json")
    report = json.loads(stdout)
    assert code == 1 and report["ok"] is False
    assert report["findings"][0] == {
        "code": "leaf_hash_mismatch",
        "message": report["findings"][0]["message"],
        "leaf_index": 3,
    }
    code, stdout, _ = run("ledger", "verify", "--data-dir", str(data_dir))
    assert code == 1 and "leaf_hash_mismatch" in stdout and "leaf 3" in stdout


def test_rotate_key_then_verify_still_passes_with_the_retired_key(data_dir):
    old_pub = next((data_dir / "keys").glob("*.pub")).read_text().strip()
    code, stdout, _ = run("ledger", "rotate-key", "--data-dir", str(data_dir), "--json", "--reason", "test")
    rotated = json.loads(stdout)
    assert code == 0 and rotated["rotated"] is True
    assert rotated["old_key"] == old_pub != rotated["new_key"]
    assert rotated["leaf_index"] == 5
    assert Path(rotated["retired_public_key_file"]).read_text().strip() == old_pub
    code, stdout, _ = run("ledger", "verify", "--data-dir", str(data_dir), "--json")
    report = json.loads(stdout)
    assert code == 0 and report["checkpoints_checked"] == 3 and report["size"] == 6


def test_ledger_verify_without_retired_key_reports_old_checkpoints_unsigned(data_dir):
    run("ledger", "rotate-key", "--data-dir", str(data_dir), "--json")
    for retired in (data_dir / "keys").glob("*.pub.*.retired"):
        retired.unlink()
    code, stdout, _ = run("ledger", "verify", "--data-dir", str(data_dir), "--json")
    findings = json.loads(stdout)["findings"]
    assert code == 1
    assert [(f["code"], f["checkpoint_id"]) for f in findings] == [
        ("checkpoint_signature", 1),
        ("checkpoint_signature", 2),
        ("checkpoint_signature", 3),
    ]


def test_rotate_key_refused_by_an_inconsistent_ledger_exits_1(data_dir):
    with sqlite3.connect(data_dir / "catalog.sqlite3") as db:
        db.execute("UPDATE checkpoints SET size = 1 WHERE id = 2")  # row no longer matches its note
    code, stdout, _ = run("ledger", "rotate-key", "--data-dir", str(data_dir), "--json")
    assert code == 1
    assert json.loads(stdout)["error"]["code"] == "ledger_checkpoint_inconsistent"
    assert not list((data_dir / "keys").glob("*.retired"))


def test_ledger_verify_in_a_data_dir_without_its_private_key_exits_3_naming_the_key(data_dir: Path) -> None:
    """Regression: after a restore (public keys only) the CLI crashed with FileExistsError."""
    from integrity.keys import key_paths

    key_paths(data_dir / "keys", Settings(data_dir=data_dir).signing_key_name)[0].unlink()
    result = runner.invoke(main_app, ["--data-dir", str(data_dir), "ledger", "verify"])
    assert result.exit_code == 3, result.output
    assert "is missing but its public key" in result.stderr
