"""Ingest as a job: ``edossier ingest --queue`` on PostgreSQL, a worker archives it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text

from api.wiring import initialise, open_installation
from archive.catalog.models import Dossier
from archive.sample import generate_sample
from archive.settings import Settings

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
EXE = Path(sys.executable).parent / "edossier"


def _cli(settings: Settings, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDOSSIER_")}
    env |= {
        "EDOSSIER_DATA_DIR": str(settings.data_dir),
        "EDOSSIER_DATABASE_URL": settings.effective_database_url,
        "EDOSSIER_JOBS__AUDIT_TICK_CRON": "0 0 1 1 *",
        "EDOSSIER_JOBS__OVERDUE_CRON": "0 0 1 1 *",
    }
    return subprocess.run([str(EXE), *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.postgres
def test_a_queued_ingest_is_archived_by_a_worker_once(
    tmp_path: Path, fresh_database_url: Callable[..., str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url("postgresql"))
    initialise(settings)
    package = tmp_path / "pkg"
    generate_sample(package, seed=51, documents=2, now=SAMPLE_NOW)

    first = _cli(settings, "ingest", str(package), "--queue", "--json")
    again = _cli(settings, "ingest", str(package), "--queue", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["status"] == "queued"
    assert json.loads(again.stdout)["status"] == "already_queued"  # one pending job per package

    worked = _cli(settings, "worker", "--queue", "ingest", "--no-wait")
    assert worked.returncode == 0, worked.stderr

    inst = open_installation(settings)
    try:
        with inst.sessions() as session:
            assert len(session.scalars(select(Dossier)).all()) == 1
        with inst.engine.connect() as conn:
            jobs = conn.execute(
                text(
                    "SELECT task_name, status FROM procrastinate.procrastinate_jobs "
                    "WHERE queue_name = 'ingest' ORDER BY id"
                )
            ).all()
    finally:
        inst.close()
    assert [tuple(j) for j in jobs] == [("edossier.ingest", "succeeded")]


def test_queue_needs_postgres(tmp_path: Path, fresh_database_url: Callable[..., str]) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url("sqlite"))
    initialise(settings)
    result = _cli(settings, "ingest", str(tmp_path), "--queue")
    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr + result.stdout
    worker = _cli(settings, "worker")
    assert worker.returncode == 2
    assert "needs PostgreSQL" in worker.stderr + worker.stdout


def test_worker_help_lists_the_job_engines_queues() -> None:
    from api.cli_worker import QUEUES as CLI_QUEUES
    from api.jobs.app import QUEUES

    assert CLI_QUEUES == QUEUES  # repeated in the CLI so `edossier --help` does not import Procrastinate
