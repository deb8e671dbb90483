"""On PostgreSQL an uploaded package is ingested by an ``edossier worker`` (a Procrastinate job)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from archive.settings import Settings
from tests.api.http.conftest import make_served
from tests.api.http.test_submissions import submit, wait_done, zip_of

EXE = Path(sys.executable).parent / "edossier"


@pytest.mark.postgres
def test_upload_is_queued_and_a_worker_answers_it(
    tmp_path: Path, sample_package: Path, fresh_database_url: Callable[..., str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url("postgresql"))
    for served in make_served(settings, sample_package):
        accepted = submit(served, zip_of(sample_package)).json()
        status = served.client.get(accepted["status_url"], headers=served.headers("submitter")).json()
        assert status["status"] == "queued"  # nobody has taken it yet
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDOSSIER_")} | {
            "EDOSSIER_DATA_DIR": str(settings.data_dir),
            "EDOSSIER_DATABASE_URL": settings.effective_database_url,
            "EDOSSIER_JOBS__AUDIT_TICK_CRON": "0 0 1 1 *",
            "EDOSSIER_JOBS__OVERDUE_CRON": "0 0 1 1 *",
        }
        worked = subprocess.run(
            [str(EXE), "worker", "--queue", "ingest", "--no-wait"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert worked.returncode == 0, worked.stderr
        done = wait_done(served, accepted["submission_id"])
        assert done["status"] == "already_archived" and done["result"]["archive_id"] == served.archive_id
