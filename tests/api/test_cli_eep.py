"""edossier validate on DA/T 48 EEP files: genuine packages pass, each tampered variant is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

EEP = Path(__file__).resolve().parents[1] / "vectors" / "eep"
EXPECTED_REFUSAL = {
    "broken-lock-signature.xml": "eep_lock_signature_invalid",
    "changed-content-byte.xml": "eep_signature_invalid",
    "changed-metadata.xml": "eep_signature_invalid",
    "not-schema-valid.xml": "eep_schema_invalid",
    "size-mismatch.xml": "eep_size_mismatch",
    "swapped-signature.xml": "eep_signature_invalid",
    "wrong-certificate.xml": "eep_signature_invalid",
}


@pytest.mark.parametrize("name", sorted(p.name for p in (EEP / "valid").glob("*.xml")))
def test_validate_accepts_a_genuine_eep(name: str) -> None:
    result = CliRunner().invoke(
        app, ["validate", str(EEP / "valid" / name), "--json"], catch_exceptions=False
    )
    body = json.loads(result.stdout)
    assert result.exit_code == 0, body
    assert [(r["item"], r["status"]) for r in body["results"]] == [
        ("BC-1-15", "pass"),
        ("BC-1-16", "pass"),
        ("BC-2-10", "pass"),
    ]


@pytest.mark.parametrize(("name", "code"), sorted(EXPECTED_REFUSAL.items()))
def test_validate_refuses_a_tampered_eep_with_its_reason(name: str, code: str) -> None:
    result = CliRunner().invoke(
        app, ["validate", str(EEP / "invalid" / name), "--json"], catch_exceptions=False
    )
    body = json.loads(result.stdout)
    assert result.exit_code == 1
    assert body["valid"] is False
    assert code in {e["code"] for e in body["errors"]}
