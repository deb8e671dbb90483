"""The whole auditor path through the CLI: ingest with SM2 co-signature, RFC 3161 timestamp and a
witness directory configured, then evidence → offline verify (with the TSA roots) → ledger verify."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from tests.support.tsa import TestTsa

runner = CliRunner()


def run(*args: str, env: dict[str, str]) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_ingest_to_offline_verification_with_sm2_tsa_and_witness(tmp_path: Path, tsa: TestTsa) -> None:
    witness = tmp_path / "witness"
    witness.mkdir()  # a witness directory is a mount someone else owns: never created by us
    env = {
        "EDOSSIER_DATA_DIR": str(tmp_path / "data"),
        "EDOSSIER_SM2_SIGNING_KEY_NAME": "edossier-sm2",
        "EDOSSIER_TSA_URL": tsa.url,
        "EDOSSIER_TSA_ROOTS": str(tsa.roots_pem),
        "EDOSSIER_WITNESS_DIRS": json.dumps([str(witness)]),
    }
    code, sample = run("sample", str(tmp_path / "case"), "--seed", "4", "--documents", "4", "--json", env=env)
    assert code == 0
    code, receipt = run("ingest", str(sample["path"]), "--json", env=env)
    assert code == 0 and receipt["status"] == "archived"

    note = str(receipt["checkpoint"])
    assert note.count("\n— ") == 2  # Ed25519 and SM2 signature lines
    assert (witness / "1.checkpoint").read_text(encoding="utf-8") == note

    bundle = tmp_path / "evidence.txt"
    code, written = run("evidence", str(receipt["archive_id"]), "-o", str(bundle), "--json", env=env)
    assert code == 0, written
    assert "-----BEGIN TIMESTAMP TOKEN-----" in bundle.read_text(encoding="utf-8")

    keys = tmp_path / "keys.pub"
    result = runner.invoke(app, ["ledger", "public-key", "--all"], env=env, catch_exceptions=False)
    keys.write_text(result.stdout, encoding="utf-8")
    code, verdict = run(
        "verify",
        str(bundle),
        "--key",
        str(keys),
        "--files",
        str(sample["path"]),
        "--tsa-roots",
        str(tsa.roots_pem),
        "--json",
        env=env,
    )
    assert code == 0, verdict
    checks = {c["name"]: c["passed"] for c in verdict["checks"]}  # type: ignore[union-attr]
    assert checks["timestamp"] is True and checks["signature"] is True and checks["files"] is True

    code, report = run("ledger", "verify", "--json", env=env)
    assert code == 0, report
