"""Secrets never reach logs, output, error messages or the catalog in clear (issue 7, security review).

Real processes: the CLI runs with ``-v`` (INFO logs on stderr) against a moto_server S3 store with a
recognisable secret key and SMTP password, archives a sample, creates a token, probes a store that is
down; the HTTP API is then driven with that token (and a wrong one) while every logger is at DEBUG.
Afterwards no output, log record, response body or catalog byte holds a secret, and every private key
file is mode 0600.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from archive.settings import load_settings
from tests.support.s3 import free_port

pytestmark = pytest.mark.s3

EXE = Path(sys.executable).with_name("edossier")
S3_SECRET = "S3-SECRET-7f3a9c1e5b"
SMTP_SECRET = "SMTP-PASSWORD-2b8d4f6a"


def _run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(EXE), "-v", *args], env=env, capture_output=True, text=True, timeout=180)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


def test_no_secret_in_cli_output_logs_api_or_catalog(
    tmp_path: Path,
    s3_endpoint: str,
    unique_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = tmp_path / "data"
    env = {
        **os.environ,
        "EDOSSIER_DATA_DIR": str(data),
        "EDOSSIER_STORE": "s3",
        "EDOSSIER_S3__ENDPOINT": s3_endpoint,
        "EDOSSIER_S3__ACCESS_KEY": "test",
        "EDOSSIER_S3__SECRET_KEY": S3_SECRET,
        "EDOSSIER_S3__BUCKET": unique_bucket,
        "EDOSSIER_ALERTS__SMTP_HOST": "127.0.0.1",
        "EDOSSIER_ALERTS__SMTP_PASSWORD": SMTP_SECRET,
        "EDOSSIER_ALERTS__SMTP_RECIPIENTS": '["archivist@court.example"]',
    }
    outputs: list[str] = []
    for args in (("init",), ("sample", str(tmp_path / "s.zip"), "--zip"), ("ingest", str(tmp_path / "s.zip"))):
        proc = _run(env, *args)
        outputs += [proc.stdout, proc.stderr]
    created = _run(env, "tokens", "create", "--role", "archivist", "--name", "审计测试", "--json")
    token = json.loads(created.stdout)["token"]
    outputs.append(created.stderr)  # the token itself is shown once on stdout, to the operator who asked
    down = _run({**env, "EDOSSIER_S3__ENDPOINT": f"127.0.0.1:{free_port()}"}, "storage", "probe", check=False)
    assert down.returncode == 3
    outputs += [down.stdout, down.stderr]
    for text in outputs:
        _assert_clean(text, S3_SECRET, SMTP_SECRET, token)

    for name, value in env.items():
        if name.startswith("EDOSSIER_"):
            monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(load_settings())) as client:
        ok = client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {token}"})
        wrong = client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {token[:-4]}AAAA"})
    assert ok.status_code == 200 and wrong.status_code == 401
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged  # DEBUG logging really captured the requests
    for text in (logged, ok.text, wrong.text):
        _assert_clean(text, S3_SECRET, SMTP_SECRET, token, token.rsplit("_", 1)[-1])

    catalog = (data / "catalog.sqlite3").read_bytes()
    assert token.rsplit("_", 1)[-1].encode() not in catalog and S3_SECRET.encode() not in catalog
    private = sorted((data / "keys").glob("*.key"))
    assert private
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
