"""On PostgreSQL an audit started over HTTP is queued and finished by an ``edossier worker``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from archive.settings import Settings
from tests.api.http.audit_helpers import start_audit, wait_run
from tests.api.http.conftest import make_served

EXE = Path(sys.executable).parent / "edossier"


@pytest.mark.postgres
def test_audit_is_queued_and_workers_check_and_finish_it(
    tmp_path: Path, sample_package: Path, fresh_database_url: Callable[..., str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url("postgresql"))
    for served in make_served(settings, sample_package):
        response = start_audit(served, scope="full")
        assert response.status_code == 202, response.text
        accepted = response.json()
        assert accepted["queued"] is True and accepted["batches"] >= 1
        waiting = served.client.get(accepted["status_url"], headers=served.headers("auditor")).json()
        assert waiting["status"] == "running" and waiting["batches"]["pending"] == accepted["batches"]

        env = {k: v for k, v in os.environ.items() if not k.startswith("EDOSSIER_")} | {
            "EDOSSIER_DATA_DIR": str(settings.data_dir),
            "EDOSSIER_DATABASE_URL": settings.effective_database_url,
            "EDOSSIER_JOBS__AUDIT_TICK_CRON": "0 0 1 1 *",
            "EDOSSIER_JOBS__OVERDUE_CRON": "0 0 1 1 *",
        }
        worked = subprocess.run(
            [str(EXE), "worker", "--no-wait", "--queue", "audit", "--queue", "maintenance"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert worked.returncode == 0, worked.stderr
        done = wait_run(served, accepted["run_id"])
        assert done["status"] == "passed" and done["scope"] == "full", done
        assert done["batches"] == {"total": accepted["batches"], "done": accepted["batches"]}
        assert done["leaf_index"] is not None and done["results"]["total"] == done["counts"]["checked"]
