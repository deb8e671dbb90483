"""Helpers for the audit and alert route tests: start a run over HTTP, wait for it, tamper with a blob."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.catalog.models import Blob
from tests.api.http.conftest import Served


def start_audit(served: Served, role: str = "archivist", **body: Any) -> Any:
    return served.client.post("/api/v1/audits", json={"scope": "fixity"} | body, headers=served.headers(role))


def wait_run(served: Served, run_id: str, query: str = "") -> dict[str, Any]:
    """The run once it is no longer ``running`` (polled as an auditor)."""
    deadline = time.monotonic() + 60
    while True:
        response = served.client.get(f"/api/v1/audits/{run_id}{query}", headers=served.headers("auditor"))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] != "running":
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def flip_a_blob(served: Served) -> str:
    """Flip one byte of the first stored blob behind the archive's back; its store key."""
    with served.inst.sessions() as session:
        key = session.scalars(select(Blob.store_key).order_by(Blob.store_key)).first()
    assert key is not None
    path: Path = served.inst.settings.store_dir.joinpath(*key.split("/"))
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    return key
