"""``edossier serve`` on a fresh data directory, and ``edossier tokens``: real processes, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.s3 import free_port

EXE = Path(sys.executable).parent / "edossier"


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDOSSIER_")}
    return env | {"EDOSSIER_DATA_DIR": str(data_dir)}


def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode()


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_on_a_fresh_data_dir_shows_a_real_archived_dossier(tmp_path: Path, workers: int) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    proc = subprocess.Popen(
        [str(EXE), "serve", "--port", str(port), "--workers", str(workers)],
        env=_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "serve.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(f"{base}/api/v1/ready")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.3)
        created = subprocess.run(
            [str(EXE), "tokens", "create", "--role", "auditor", "--name", "外部审计", "--json"],
            env=_env(data_dir),
            capture_output=True,
            text=True,
            check=True,
        )
        token = json.loads(created.stdout)["token"]
        status, found = _get(f"{base}/api/v1/dossiers", token)
        assert status == 200 and found["total"] == 1  # the sample archived on first start
        status, _ = _get(f"{base}/api/v1/dossiers")
        assert status == 401
        assert _get(f"{base}/api/v1/ledger/checkpoint")[1].startswith("edossier.example/court-archive\n")
        listed = subprocess.run(
            [str(EXE), "tokens", "list", "--json"], env=_env(data_dir), capture_output=True, text=True, check=True
        )
        [row] = json.loads(listed.stdout)["tokens"]
        assert row["role"] == "auditor" and row["usable"] and "token" not in row
        subprocess.run([str(EXE), "tokens", "revoke", row["id"]], env=_env(data_dir), check=True)
        assert _get(f"{base}/api/v1/dossiers", token)[0] == 401
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
